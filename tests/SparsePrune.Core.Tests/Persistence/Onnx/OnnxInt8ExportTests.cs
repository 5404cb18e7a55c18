using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SparsePrune.Tests;

/// <summary>
/// int8 ONNX export of Linear-quantized models: each such layer is an INT8 [out, in] initializer
/// of codes, a FLOAT [out] scale and an INT8 [out] zero point feeding DequantizeLinear (axis 0),
/// then the Gemm as before; with an input normalization the graph normalizes the raw input itself
/// (Sub, Div) so that layer 0 stays on its grid. ONNX Runtime's outputs on raw rows must match the
/// model's within 1e-4, the file must be at most 0.3× the float32 export of the same model, and
/// Import-Mlp must read it back (DequantizeLinear and the normalization folded) with the same outputs.
/// </summary>
public class OnnxInt8ExportTests
{
    private const double Tolerance = 1e-4;
    private readonly ITestOutputHelper _output;

    public OnnxInt8ExportTests(ITestOutputHelper output) => _output = output;

    // ---- helpers --------------------------------------------------------------------------------

    private static Dictionary<string, float[]> Run(byte[] file, float[] raw, int rows, int features)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(file, options);
        var input = new DenseTensor<float>(raw.AsMemory(0, rows * features), new[] { rows, features });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(OnnxWriter.InputName, input) });
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    private static float[] ModelOutputs(Mlp model, float[] raw, int rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(raw.AsSpan(0, rows * model.InputFeatures).ToArray(), new long[] { rows, model.InputFeatures });
        return model.Forward(model.NormalizeInputs(x)).data<float>().ToArray();
    }

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double limit = Tolerance * Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= limit, $"{what}[{i}]: got {actual[i]:R}, model {expected[i]:R}");
        }
    }


    private static Onnx.ModelProto Parse(byte[] file) => Onnx.ModelProto.Parser.ParseFrom(file);

    private static Mlp LinearQuantized(int[] widths, int seed, int[]? bits = null, double prune = 0, int epochs = 2)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(widths, Activation.ReLU, seed: seed, name: $"int8-{seed}");
        Trainer.Train(model, data, new TrainingOptions { Epochs = epochs, BatchSize = 32, Seed = 1 });
        if (prune > 0) TestKit.Prune(model, prune, data: data);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear, Bits = bits }), null);
        return model;
    }

    /// <summary>The same model with free (float) weights: its export is the float32 form of the same values.</summary>
    private static Mlp Unquantized(Mlp model)
    {
        var copy = model.Clone();
        foreach (var l in copy.State) l.Quantization = null;
        return copy;
    }

    /// <summary>Exports, runs ONNX Runtime on the raw rows and compares logits and probabilities with the model's.</summary>
    private static byte[] ExportAndCompare(Mlp model, float[] raw, int rows, OnnxExportOptions options, string what)
    {
        var file = OnnxFormat.ToBytes(model, options);
        var run = Run(file, raw, rows, model.InputFeatures);
        Close(ModelOutputs(model, raw, rows), run[OnnxWriter.LogitsName], what + " logits");
        var probabilities = Predictor.Predict(model, raw.AsSpan(0, rows * model.InputFeatures).ToArray(), rows)
            .Cast<ClassPrediction>().SelectMany(p => p.Probabilities.Select(v => (float)v)).ToArray();
        Close(probabilities, run[OnnxWriter.ProbabilitiesName], what + " probabilities");
        return file;
    }

    /// <summary>Every layer is int8: codes, scales and zero points of the right types and shapes, decoding to the model's weights bit for bit.</summary>
    private static void AssertInt8Layers(Mlp model, Onnx.ModelProto proto)
    {
        var g = proto.Graph;
        for (int i = 0; i < model.LayerCount; i++)
        {
            var l = model.State[i];
            var q = l.Quantization!;
            var codes = g.Initializer.Single(t => t.Name == $"layer{i}.weight_quantized");
            var scales = g.Initializer.Single(t => t.Name == $"layer{i}.weight_scale");
            var zeros = g.Initializer.Single(t => t.Name == $"layer{i}.weight_zero_point");
            Assert.Equal((int)DataType.Int8, codes.DataType);
            Assert.Equal((int)DataType.Float, scales.DataType);
            Assert.Equal((int)DataType.Int8, zeros.DataType);
            Assert.Equal(new long[] { l.OutFeatures, l.InFeatures }, codes.Dims);
            Assert.Equal(new long[] { l.OutFeatures }, scales.Dims);
            Assert.Equal(new long[] { l.OutFeatures }, zeros.Dims);
            Assert.Equal(l.DenseWeights, codes.RawData.Length);
            Assert.DoesNotContain(g.Initializer, t => t.Name == $"layer{i}.weight");
            Assert.DoesNotContain(g.SparseInitializer, t => t.Values.Name == $"layer{i}.weight");

            var dq = g.Node.Single(n => n.Output.Single() == $"layer{i}.weight");
            Assert.Equal("DequantizeLinear", dq.OpType);
            Assert.Equal(new[] { codes.Name, scales.Name, zeros.Name }, dq.Input);
            Assert.Equal(0, dq.Attribute.Single(a => a.Name == "axis").I);
            var gemm = g.Node.Single(n => n.OpType == "Gemm" && n.Input[1] == $"layer{i}.weight");
            Assert.Equal(1, gemm.Attribute.Single(a => a.Name == "transB").I);

            // (code − zp) · scale is the model's weight, bit for bit; the grid is the quantization's.
            var c = codes.RawData.Span;
            var s = OnnxExportKit.RawFloats(scales);
            var z = zeros.RawData.Span;
            Assert.Equal(q.RowScales, s);
            Assert.Equal(q.RowZeroPoints, z.ToArray().Select(b => (int)(sbyte)b));
            var w = TestKit.W(model, i);
            int limit = 1 << (q.Bits - 1);
            var decoded = new float[w.Length];
            for (int k = 0; k < w.Length; k++)
            {
                int r = k / l.InFeatures, code = (sbyte)c[k];
                Assert.InRange(code, -limit, limit - 1);
                decoded[k] = (code - (sbyte)z[r]) * s[r];
            }
            TestKit.BitEqual(w.Select(v => v == 0 ? 0f : v).ToArray(), decoded, $"layer {i}");
        }
    }

    /// <summary>Import-Mlp's path: the file read back is a plain float model with the same outputs on raw rows.</summary>
    private static void ImportMatches(Mlp model, byte[] file, float[] raw, int rows, string what)
    {
        var imported = OnnxFormat.FromBytes(file);
        Assert.Equal(model.Widths, imported.Widths);
        Assert.Equal(model.Name, imported.Name);
        Assert.All(imported.State, l => Assert.Null(l.Quantization));
        Close(ModelOutputs(model, raw, rows), ModelOutputs(imported, raw, rows), what + " imported");
        // And it exports again (as float32) to a file ONNX Runtime agrees with.
        Close(ModelOutputs(model, raw, rows), Run(OnnxFormat.ToBytes(imported), raw, rows, model.InputFeatures)[OnnxWriter.LogitsName], what + " re-exported");
    }

    // ---- export ---------------------------------------------------------------------------------

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void ALinear8BitModelExportsInt8WeightsAndMatchesTheModel(int opset)
    {
        var data = TestKit.Digits;
        var model = LinearQuantized(new[] { 64, 256, 128, 10 }, seed: 600);
        Assert.NotNull(model.FeatureOffset);
        var raw = TestKit.RawTestRows(data);
        var options = new OnnxExportOptions { OpsetVersion = opset };
        var file = ExportAndCompare(model, raw, data.TestCount, options, $"int8@{opset}");
        var proto = Parse(file);
        Assert.Equal(opset, proto.OpsetImport.Single().Version);
        AssertInt8Layers(model, proto);

        // The normalization is the graph's first two nodes, on the raw input: Sub then Div, the model's statistics.
        var ops = proto.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(new[] { "Sub", "Div" }, ops.Take(2));
        Assert.Equal(OnnxWriter.InputName, proto.Graph.Node[0].Input[0]);
        Assert.Equal(model.FeatureOffset, OnnxExportKit.RawFloats(proto.Graph.Initializer.Single(t => t.Name == OnnxWriter.InputOffsetName)));
        Assert.Equal(model.FeatureScale, OnnxExportKit.RawFloats(proto.Graph.Initializer.Single(t => t.Name == OnnxWriter.InputScaleName)));
        Assert.Equal(OnnxWriter.NormalizedName, proto.Graph.Node.First(n => n.OpType == "Gemm").Input[0]);
        Assert.Equal(3, ops.Count(o => o == "DequantizeLinear"));

        // About a quarter of the float32 file.
        var floats = ExportAndCompare(Unquantized(model), raw, data.TestCount, options, "float");
        Assert.DoesNotContain(Parse(floats).Graph.Node, n => n.OpType is "DequantizeLinear" or "Sub" or "Div");
        Assert.True(file.Length <= 0.3 * floats.Length, $"int8 {file.Length} bytes, float32 {floats.Length} bytes");
        _output.WriteLine($"Digits 64-256-128-10 opset {opset}: float32 {floats.Length} bytes, int8 {file.Length} bytes ({(double)file.Length / floats.Length:0.000})");

        ImportMatches(model, file, raw, data.TestCount, $"int8@{opset}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APrunedLinear8BitModelStaysInt8WithAndWithoutSparseInitializers(bool sparseInitializers)
    {
        var data = TestKit.Digits;
        var model = LinearQuantized(new[] { 64, 256, 128, 10 }, seed: 610, prune: 0.8);
        Assert.All(model.State, l => Assert.Equal(LayerStorage.Sparse, l.Stored));
        var raw = TestKit.RawTestRows(data);
        var file = ExportAndCompare(model, raw, data.TestCount, new OnnxExportOptions { SparseInitializers = sparseInitializers }, $"pruned sparse={sparseInitializers}");
        var proto = Parse(file);
        // A sparse tensor's absent entries would be code 0, not the zero point: int8 layers stay dense.
        Assert.Empty(proto.Graph.SparseInitializer);
        AssertInt8Layers(model, proto);
        var floats = OnnxFormat.ToBytes(Unquantized(model));
        Assert.True(file.Length <= 0.3 * floats.Length, $"int8 {file.Length} bytes, float32 {floats.Length} bytes");
        var sparseFloats = OnnxFormat.ToBytes(Unquantized(model), new OnnxExportOptions { SparseInitializers = true });
        _output.WriteLine($"Digits 64-256-128-10 pruned 80 %: float32 dense {floats.Length} bytes, float32 sparse {sparseFloats.Length} bytes, int8 {file.Length} bytes");
        ImportMatches(model, file, raw, data.TestCount, "pruned");
    }

    [Fact]
    public void FewerBitsAreInt8TooAndAModelWithoutNormalizationHasNoSubOrDiv()
    {
        var data = TestKit.Digits;
        var model = LinearQuantized(new[] { 64, 40, 24, 10 }, seed: 620, bits: new[] { 4, 8, 2 });
        var raw = TestKit.RawTestRows(data);
        var proto = Parse(ExportAndCompare(model, raw, data.TestCount, new OnnxExportOptions(), "4,8,2 bits"));
        AssertInt8Layers(model, proto);
        ImportMatches(model, OnnxFormat.ToBytes(model), raw, data.TestCount, "4,8,2 bits");

        // No input normalization: nothing before layer 0's Gemm but its DequantizeLinear.
        var plain = Mlp.Create(new[] { 6, 9, 3 }, Activation.Tanh, seed: 621, name: "plain");
        Quantizer.Apply(plain, Quantizer.Plan(plain, new QuantizationRequest { Method = QuantizationMethod.Linear }), null);
        Assert.Null(plain.FeatureOffset);
        var rows = TestKit.RandomRows(12, 6, 622, scale: 2);
        var file = ExportAndCompare(plain, rows, 12, new OnnxExportOptions { OpsetVersion = 13 }, "plain");
        var p = Parse(file);
        AssertInt8Layers(plain, p);
        Assert.DoesNotContain(p.Graph.Node, n => n.OpType is "Sub" or "Div");
        Assert.Equal(OnnxWriter.InputName, p.Graph.Node.First(n => n.OpType == "Gemm").Input[0]);
        ImportMatches(plain, file, rows, 12, "plain");
    }

    [Fact]
    public void AnImportedModelQuantizedAgainNeedsNoNormalizationNodes()
    {
        // Import gives raw inputs with an identity normalization: it folds exactly, so no Sub or Div.
        var data = TestKit.Digits;
        var raw = TestKit.RawTestRows(data);
        var imported = OnnxFormat.FromBytes(OnnxFormat.ToBytes(LinearQuantized(new[] { 64, 32, 10 }, seed: 625, epochs: 1)));
        Assert.NotNull(imported.FeatureOffset);
        Quantizer.Apply(imported, Quantizer.Plan(imported, new QuantizationRequest { Method = QuantizationMethod.Linear }), null);
        var proto = Parse(ExportAndCompare(imported, raw, data.TestCount, new OnnxExportOptions(), "imported, requantized"));
        AssertInt8Layers(imported, proto);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType is "Sub" or "Div");
    }

    [Fact]
    public void KMeansQuantizedAndFloatModelsExportFloat32AsBefore()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 20, 10 }, seed: 630, name: "kmeans");
        Trainer.Train(model, data, new TrainingOptions { Epochs = 1, Seed = 1 });
        var before = Parse(OnnxFormat.ToBytes(model));
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.KMeans, Bits = new[] { 4 } }), null);
        var proto = Parse(ExportAndCompare(model, TestKit.RawTestRows(data), data.TestCount, new OnnxExportOptions(), "kmeans"));
        foreach (var p in new[] { before, proto })
        {
            Assert.DoesNotContain(p.Graph.Node, n => n.OpType is "DequantizeLinear" or "Sub" or "Div");
            Assert.All(p.Graph.Initializer, t => Assert.Equal((int)DataType.Float, t.DataType));
            Assert.Equal(2, p.Graph.Initializer.Count(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void ALayerOffItsGridGoesOutAsFloat32()
    {
        // A weight changed behind the quantization's back: that layer is float32, the others int8, and the file still computes what the model does.
        var data = TestKit.Digits;
        var model = LinearQuantized(new[] { 64, 16, 10 }, seed: 640, epochs: 1);
        var w = TestKit.W(model, 1);
        int k = Array.FindIndex(w, v => v != 0);
        w[k] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w[k]) + 1);
        TestKit.SetWeight(model, 1, w);
        Assert.NotNull(model.State[1].Quantization); // the layer still claims a grid it is no longer on
        var proto = Parse(ExportAndCompare(model, TestKit.RawTestRows(data), data.TestCount, new OnnxExportOptions(), "off-grid"));
        Assert.Equal((int)DataType.Int8, proto.Graph.Initializer.Single(t => t.Name == "layer0.weight_quantized").DataType);
        Assert.Equal((int)DataType.Float, proto.Graph.Initializer.Single(t => t.Name == "layer1.weight").DataType);
        Assert.Single(proto.Graph.Node, n => n.OpType == "DequantizeLinear");
    }

    [Fact]
    public void TheDigits64x128x64x10SizesAreReported()
    {
        // A small model: the metadata (64 feature names, …) and the per-row scales weigh more here; reported, bounded loosely.
        var model = LinearQuantized(new[] { 64, 128, 64, 10 }, seed: 605, epochs: 1);
        var file = OnnxFormat.ToBytes(model);
        var floats = OnnxFormat.ToBytes(Unquantized(model));
        _output.WriteLine($"Digits 64-128-64-10: float32 {floats.Length} bytes, int8 {file.Length} bytes ({(double)file.Length / floats.Length:0.000})");
        Assert.True(file.Length <= 0.35 * floats.Length, $"int8 {file.Length} bytes, float32 {floats.Length} bytes");
    }

    [Fact]
    public void LeNet300100Int8IsAtMost0Point3OfFloat32()
    {
        var model = Mlp.Create(new[] { 784, 300, 100, 10 }, seed: 650, name: "lenet-300-100");
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear }), null);
        var raw = TestKit.RandomRows(16, 784, 651);
        var file = OnnxFormat.ToBytes(model);
        var floats = OnnxFormat.ToBytes(Unquantized(model));
        Close(ModelOutputs(model, raw, 16), Run(file, raw, 16, 784)[OnnxWriter.LogitsName], "lenet");
        AssertInt8Layers(model, Parse(file));
        _output.WriteLine($"LeNet-300-100: float32 {floats.Length} bytes, int8 {file.Length} bytes ({(double)file.Length / floats.Length:0.000})");
        Assert.True(file.Length <= 0.3 * floats.Length, $"int8 {file.Length} bytes, float32 {floats.Length} bytes");
        // The codes at one byte each, plus per row a scale, a zero point and a bias, and little more.
        long weights = 784 * 300 + 300 * 100 + 100 * 10, rows = 410;
        Assert.InRange(file.Length, weights + 9 * rows, weights + 9 * rows + 8192);
    }

    // ---- import of other DequantizeLinear forms ----------------------------------------------------

    [Fact]
    public void ImportFoldsPerTensorUint8AndDefaultAxisDequantizeLinear()
    {
        // Rewrite the exported layer 1 as DequantizeLinear of UINT8 codes with one scale and zero point.
        var model = Mlp.Create(new[] { 5, 4, 3 }, Activation.Sigmoid, seed: 660, name: "per-tensor");
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear }), null);
        var proto = Parse(OnnxFormat.ToBytes(model));
        var g = proto.Graph;
        var codes = new byte[12];
        for (int k = 0; k < 12; k++) codes[k] = (byte)(k * 19 % 256);
        var c = g.Initializer.Single(t => t.Name == "layer1.weight_quantized");
        c.DataType = (int)DataType.Uint8;
        c.RawData = Google.Protobuf.ByteString.CopyFrom(codes);
        var s = g.Initializer.Single(t => t.Name == "layer1.weight_scale");
        s.Dims.Clear();
        s.RawData = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(0.015625f));
        var z = g.Initializer.Single(t => t.Name == "layer1.weight_zero_point");
        z.Dims.Clear();
        z.DataType = (int)DataType.Uint8;
        z.RawData = Google.Protobuf.ByteString.CopyFrom(new byte[] { 128 });
        g.Node.Single(n => n.Output[0] == "layer1.weight").Attribute.Clear(); // axis 1 by default: ignored per tensor
        var file = Google.Protobuf.MessageExtensions.ToByteArray(proto);

        var imported = OnnxFormat.FromBytes(file);
        TestKit.BitEqual(codes.Select(b => (b - 128) * 0.015625f).ToArray(), TestKit.W(imported, 1), "layer 1");
        TestKit.BitEqual(TestKit.W(model, 0).Select(v => v == 0 ? 0f : v).ToArray(), TestKit.W(imported, 0).Select(v => v == 0 ? 0f : v).ToArray(), "layer 0");
        var raw = TestKit.RandomRows(7, 5, 661);
        Close(ModelOutputs(imported, raw, 7), Run(file, raw, 7, 5)[OnnxWriter.LogitsName], "per-tensor");
    }

    [Fact]
    public void ANormalizationTheReaderCannotFoldIsRefused()
    {
        var model = LinearQuantized(new[] { 64, 8, 10 }, seed: 670, epochs: 1);
        var proto = Parse(OnnxFormat.ToBytes(model));
        // Sub the other way round: c − x is not a normalization of x.
        var sub = proto.Graph.Node.Single(n => n.OpType == "Sub");
        (sub.Input[0], sub.Input[1]) = (sub.Input[1], sub.Input[0]);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => OnnxFormat.FromBytes(Google.Protobuf.MessageExtensions.ToByteArray(proto)));
        Assert.Contains("Sub", e.Message);
        // A scale of the wrong length.
        proto = Parse(OnnxFormat.ToBytes(model));
        var scale = proto.Graph.Initializer.Single(t => t.Name == OnnxWriter.InputScaleName);
        scale.Dims[0] = 2;
        scale.RawData = Google.Protobuf.ByteString.CopyFrom(new byte[8]);
        TestKit.Throws("UnsupportedOnnxGraph", () => OnnxFormat.FromBytes(Google.Protobuf.MessageExtensions.ToByteArray(proto)));
    }

    // ---- onnx.checker ----------------------------------------------------------------------------

    [OnnxCheckerFact]
    public void OnnxCheckerAcceptsTheInt8Files()
    {
        var dir = TestKit.TempDir();
        try
        {
            var files = new List<(string, bool)>();
            void Add(string name, Mlp model, OnnxExportOptions options)
            {
                var path = Path.Combine(dir, name + ".onnx");
                File.WriteAllBytes(path, OnnxFormat.ToBytes(model, options));
                bool hasSparse = Parse(File.ReadAllBytes(path)).Graph.SparseInitializer.Count > 0;
                files.Add((path, hasSparse));
            }
            var model = LinearQuantized(new[] { 64, 24, 16, 10 }, seed: 680, epochs: 1);
            foreach (var opset in new[] { 13, 15, 17 }) Add($"int8-{opset}", model, new OnnxExportOptions { OpsetVersion = opset });
            var pruned = LinearQuantized(new[] { 64, 24, 16, 10 }, seed: 681, prune: 0.7, epochs: 1);
            Add("pruned-sparse", pruned, new OnnxExportOptions { SparseInitializers = true });
            var bits = LinearQuantized(new[] { 64, 24, 10 }, seed: 682, bits: new[] { 3, 6 }, epochs: 1);
            Add("bits-3-6", bits, new OnnxExportOptions { OpsetVersion = 13 });
            var plain = Mlp.Create(new[] { 6, 5, 2 }, seed: 683);
            Quantizer.Apply(plain, Quantizer.Plan(plain, new QuantizationRequest { Method = QuantizationMethod.Linear }), null);
            Add("plain", plain, new OnnxExportOptions());

            var verdicts = OnnxChecker.Check(files);
            Assert.Equal(files.Count, verdicts.Count);
            Assert.All(verdicts, v => Assert.True(v.Ok, $"{Path.GetFileName(v.Path)}: {v.Message}"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
