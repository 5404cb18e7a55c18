using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static SparsePrune.Tests.OnnxExportKit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// ONNX export of masked and pruned models: masked zeros kept in dense initializers, deleted
/// connections as dense zeros or as sparse initializers, neuron-pruned shapes, N:M; every file
/// run in ONNX Runtime against the model (<see cref="OnnxExportKit"/>), and the saving Export-Mlp
/// promises for sparse initializers never more than the files show.
/// </summary>
public class OnnxWriterPrunedModelTests
{
    // ---- sparsity and pruning -----------------------------------------------------------------

    [Fact]
    public void AMaskedModelKeepsItsZerosInDenseInitializers()
    {
        var data = TestKit.Digits;
        var model = DigitsModel(380);
        TestKit.Sparsify(model, 0.7, data: data);
        Assert.All(model.State, l => Assert.Equal(LayerStorage.Dense, l.Stored));
        foreach (var sparse in new[] { false, true })
        {
            var proto = Parse(ExportAndCompare(model, TestKit.RawTestRows(data), data.TestCount, new OnnxExportOptions { SparseInitializers = sparse }, "masked"));
            // A mask is reversible: the layers are not connection-pruned, so they stay dense either way.
            Assert.Empty(proto.Graph.SparseInitializer);
            for (int i = 0; i < model.LayerCount; i++)
            {
                var w = proto.Graph.Initializer.Single(t => t.Name == $"layer{i}.weight");
                Assert.Equal(new long[] { model.State[i].OutFeatures, model.State[i].InFeatures }, w.Dims);
                var values = RawFloats(w);
                // The zeros sit where the model's (unnormalized-input) layer 0 has them, or anywhere for later layers.
                Assert.Equal(TestKit.ZeroSet(TestKit.W(model, i)), TestKit.ZeroSet(values));
            }
        }
    }

    [Fact]
    public void AConnectionPrunedModelRunsWithDenseAndWithSparseInitializers()
    {
        var data = TestKit.Digits;
        var model = DigitsModel(390);
        TestKit.Prune(model, 0.8, data: data);
        Assert.All(model.State, l => Assert.Equal(LayerStorage.Sparse, l.Stored));
        var raw = TestKit.RawTestRows(data);
        var dense = Parse(ExportAndCompare(model, raw, data.TestCount, new OnnxExportOptions(), "pruned, dense"));
        var sparse = Parse(ExportAndCompare(model, raw, data.TestCount, new OnnxExportOptions { SparseInitializers = true }, "pruned, sparse"));

        Assert.Empty(dense.Graph.SparseInitializer);
        Assert.Equal(model.LayerCount, sparse.Graph.SparseInitializer.Count);
        for (int i = 0; i < model.LayerCount; i++)
        {
            string name = $"layer{i}.weight";
            Assert.DoesNotContain(sparse.Graph.Initializer, t => t.Name == name);
            var denseValues = RawFloats(dense.Graph.Initializer.Single(t => t.Name == name));
            var s = sparse.Graph.SparseInitializer.Single(t => t.Values.Name == name);
            var l = model.State[i];
            Assert.Equal(new long[] { l.OutFeatures, l.InFeatures }, s.Dims);
            // Values [NNZ] float, indices [NNZ] int64 linearized, ascending, no duplicates.
            var values = RawFloats(s.Values);
            var indices = s.Indices.Int64Data.ToArray();
            Assert.Equal(new long[] { values.Length }, s.Values.Dims);
            Assert.Equal(new long[] { values.Length }, s.Indices.Dims);
            Assert.Equal((int)Onnx.TensorProto.Types.DataType.Int64, s.Indices.DataType);
            Assert.Equal(TestKit.CountNonZero(denseValues), values.Length);
            Assert.True(indices.Zip(indices.Skip(1)).All(p => p.First < p.Second), "indices ascending without duplicates");
            // Densified, the sparse entry is the dense initializer.
            var densified = new float[denseValues.Length];
            for (int k = 0; k < indices.Length; k++) densified[indices[k]] = values[k];
            TestKit.BitEqual(denseValues, densified, name);
        }
    }

    [Fact]
    public void APrunedLayerWithNoWeightLeftAndASingleLayerModelRun()
    {
        var model = Mlp.Create(new[] { 6, 5, 4, 3 }, Activation.Tanh, seed: 395);
        TestKit.Prune(model, 0.5);
        TestKit.SetWeight(model, 1, new float[20]); // every weight of layer 1 gone: only its bias speaks
        var raw = TestKit.RandomRows(8, 6, 396, scale: 2);
        var proto = Parse(ExportAndCompare(model, raw, 8, new OnnxExportOptions { SparseInitializers = true }, "empty layer"));
        var empty = proto.Graph.SparseInitializer.Single(t => t.Values.Name == "layer1.weight");
        Assert.Equal(new long[] { 0 }, empty.Values.Dims);
        Assert.Equal(new long[] { 4, 5 }, empty.Dims);

        var single = Mlp.Create(new[] { 6, 3 }, seed: 397);
        var ops = Parse(ExportAndCompare(single, raw, 8, what: "single layer")).Graph.Node.Select(n => n.OpType);
        Assert.Equal(new[] { "Gemm", "Softmax" }, ops);
    }

    [Fact]
    public void ANeuronPrunedModelHasItsSmallerShapes()
    {
        var data = TestKit.Digits;
        var model = DigitsModel(400);
        TestKit.Prune(model, 0.25, PruneStructure.Neuron, data: data);
        var widths = model.Widths;
        Assert.True(widths[1] < 48 && widths[2] < 32, $"widths {string.Join(",", widths)}");
        var proto = Parse(ExportAndCompare(model, TestKit.RawTestRows(data), data.TestCount, what: "neuron-pruned"));
        for (int i = 0; i < model.LayerCount; i++)
        {
            Assert.Equal(new long[] { widths[i + 1], widths[i] }, proto.Graph.Initializer.Single(t => t.Name == $"layer{i}.weight").Dims);
            Assert.Equal(new long[] { widths[i + 1] }, proto.Graph.Initializer.Single(t => t.Name == $"layer{i}.bias").Dims);
        }
        using var session = new InferenceSession(OnnxFormat.ToBytes(model));
        Assert.Equal(JsonSerializer.Serialize(widths), session.ModelMetadata.CustomMetadataMap["sparseprune.widths"]);
    }

    [Fact]
    public void AnNMPrunedAndAWorkedModelMatch()
    {
        var data = TestKit.Digits;
        var model = DigitsModel(410);
        var plan = Pruner.Plan(model, new PruningRequest { Structure = PruneStructure.NM, KeepN = 2, GroupM = 4 });
        Pruner.Apply(model, plan, data);
        Assert.InRange(1 - (double)model.NonZeroWeights / (64 * 48 + 48 * 32 + 32 * 10), 0.49, 1.0);
        var raw = TestKit.RawTestRows(data);
        ExportAndCompare(model, raw, data.TestCount, what: "2:4");
        ExportAndCompare(model, raw, data.TestCount, new OnnxExportOptions { SparseInitializers = true, OpsetVersion = 13 }, "2:4 sparse");

        // Trained, masked, connection- and neuron-pruned, masked again (Tanh, Iris).
        var worked = TestKit.WorkedModel(411, "worked-onnx");
        var iris = TestKit.Iris;
        ExportAndCompare(worked, TestKit.RawTestRows(iris), iris.TestCount, what: "worked");
        ExportAndCompare(worked, TestKit.RawTestRows(iris), iris.TestCount, new OnnxExportOptions { SparseInitializers = true, OpsetVersion = 20 }, "worked sparse");
    }

    [Fact]
    public void LeNetPrunedTo95PercentIsAtMostAnEighthWithSparseInitializers()
    {
        var model = Mlp.Create(new[] { 784, 300, 100, 10 }, seed: 420, name: "lenet-300-100");
        TestKit.Prune(model, 0.95);
        Assert.InRange(1 - (double)model.NonZeroWeights / (784 * 300 + 300 * 100 + 100 * 10), 0.95, 0.96);
        var raw = TestKit.RandomRows(32, 784, 421);
        var dense = ExportAndCompare(model, raw, 32, new OnnxExportOptions(), "lenet dense");
        var sparse = ExportAndCompare(model, raw, 32, new OnnxExportOptions { SparseInitializers = true }, "lenet sparse");
        Assert.True(sparse.Length * 8 <= dense.Length, $"sparse {sparse.Length} bytes, dense {dense.Length} bytes");
        // The dense file is the weights at 4 bytes each, and little more.
        long weights = 784 * 300 + 300 * 100 + 100 * 10 + 410;
        Assert.InRange(dense.Length, 4 * weights, 4 * weights + 8192);
    }

    [Fact]
    public void TheSavingExportMlpPromisesForSparseInitializersIsNeverMoreThanTheFilesShow()
    {
        // Masked zeros, connection pruning from light to nearly total, and linear-quantized
        // layers (they stay dense even with sparse initializers).
        foreach (var (ratio, masked, quantize) in new[] { (0.3, 0.0, false), (0.5, 0.2, false), (0.9, 0.0, false), (0.999, 0.0, false), (0.9, 0.0, true) })
        {
            var model = Mlp.Create(new[] { 200, 120, 30, 10 }, seed: 17, name: "saving");
            if (masked > 0) TestKit.Sparsify(model, masked);
            TestKit.Prune(model, ratio);
            if (quantize) Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear, Bits = new[] { 8, 8, 8 } }), null);
            var dense = OnnxFormat.ToBytes(model).Length;
            var sparse = OnnxFormat.ToBytes(model, new OnnxExportOptions { SparseInitializers = true }).Length;
            var (saving, layers) = OnnxWriter.SparseInitializerSaving(model);
            string what = $"ratio {ratio}, masked {masked}, quantized {quantize}: dense {dense}, sparse {sparse}, promised {saving}";
            Assert.Equal(quantize ? 0 : 3, layers);
            Assert.True(saving <= dense - sparse || saving == 0, what);
            // Close to what it is: the bound counts the entries exactly and errs only in a few bytes per layer.
            if (saving > 0) Assert.True(dense - sparse - saving <= 100 * layers, what);
            // The hint speaks exactly when the promised saving is a tenth of the file or more.
            var hint = OnnxFormat.SparseInitializerHint(model, "/x/saving.onnx", dense);
            Assert.Equal(layers > 0 && saving >= OnnxFormat.HintShare * dense, hint is not null);
        }
        // A dense model: nothing to promise, no hint.
        var plain = Mlp.Create(new[] { 20, 10, 3 }, seed: 1);
        Assert.Equal((0L, 0), OnnxWriter.SparseInitializerSaving(plain));
        Assert.Null(OnnxFormat.SparseInitializerHint(plain, "/x/plain.onnx", OnnxFormat.ToBytes(plain).Length));
    }
}
