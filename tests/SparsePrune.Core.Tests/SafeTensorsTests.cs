using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// SafeTensors export and import: the file is read here by a parser of the test's own (not
/// SafeTensors.cs), so names, dtypes, shapes, offsets and metadata are checked against the
/// standard layout; the folded first layer on raw rows gives the model's outputs; zeros stay in
/// place; damaged files are refused with a SparsePruneException.
/// </summary>
public class SafeTensorsTests
{
    // ---- the test's own SafeTensors reader and writer --------------------------------------

    private sealed record Tensor(string Name, string DType, long[] Shape, long Begin, long End);

    private sealed record Parsed(long HeaderLength, string HeaderText, List<string> Keys, List<Tensor> Tensors, Dictionary<string, string> Meta, byte[] Data)
    {
        public Tensor this[string name] => Tensors.Single(t => t.Name == name);

        public float[] Values(string name)
        {
            var t = this[name];
            var v = new float[(t.End - t.Begin) / 4];
            for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan((int)t.Begin + 4 * i, 4));
            return v;
        }
    }

    private static Parsed Parse(byte[] file)
    {
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.InRange(n, 2, file.Length - 8);
        var text = Encoding.UTF8.GetString(file, 8, (int)n);
        using var doc = JsonDocument.Parse(text);
        var keys = new List<string>();
        var tensors = new List<Tensor>();
        var meta = new Dictionary<string, string>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            keys.Add(p.Name);
            if (p.Name == "__metadata__")
            {
                foreach (var m in p.Value.EnumerateObject()) meta.Add(m.Name, m.Value.GetString()!);
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(2, offsets.Length);
            tensors.Add(new Tensor(p.Name, p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), offsets[0], offsets[1]));
        }
        return new Parsed(n, text, keys, tensors, meta, file.AsSpan(8 + (int)n).ToArray());
    }

    /// <summary>A SafeTensors file from a header (a JSON object, written as given) and the data.</summary>
    private static byte[] Build(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        int padded = (h.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        h.CopyTo(file, 8);
        for (int i = 8 + h.Length; i < 8 + padded; i++) file[i] = (byte)' ';
        data.CopyTo(file, 8 + padded);
        return file;
    }

    /// <summary>A file with the given tensors (laid out contiguously in this order) and metadata.</summary>
    private static byte[] Build(IEnumerable<(string Name, long[] Shape, float[] Values)> tensors, Dictionary<string, string>? meta = null, string dtype = "F32")
    {
        var header = new JsonObject();
        if (meta is not null)
        {
            var m = new JsonObject();
            foreach (var (k, v) in meta) m[k] = v;
            header["__metadata__"] = m;
        }
        using var data = new MemoryStream();
        foreach (var (name, shape, values) in tensors)
        {
            long begin = data.Length;
            foreach (var v in values) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); data.Write(b); }
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(begin), JsonValue.Create(data.Length)),
            };
        }
        return Build(header.ToJsonString(), data.ToArray());
    }

    /// <summary>The same file with its header changed by <paramref name="edit"/> (data untouched).</summary>
    private static byte[] EditHeader(byte[] file, Action<JsonObject> edit)
    {
        var p = Parse(file);
        var header = JsonNode.Parse(p.HeaderText)!.AsObject();
        edit(header);
        return Build(header.ToJsonString(), p.Data);
    }

    private static float[] Floats(int count, int seed) => TestKit.RandomRows(1, count, seed);

    // ---- models -------------------------------------------------------------------------

    private static Mlp WorkedModel() => TestKit.WorkedModel(71, "iris-st");


    /// <summary>The network in the file run on raw rows, in double, from the file's own bytes.</summary>
    private static double[][] FileForward(Parsed file, float[] raw, int rows, Activation activation)
    {
        int layers = file.Tensors.Count / 2;
        var result = new double[rows][];
        for (int r = 0; r < rows; r++)
        {
            int f = (int)file["0.weight"].Shape[1];
            var h = Enumerable.Range(0, f).Select(j => (double)raw[r * f + j]).ToArray();
            for (int l = 0; l < layers; l++)
            {
                var shape = file[$"{2 * l}.weight"].Shape;
                var w = file.Values($"{2 * l}.weight");
                var b = file.Values($"{2 * l}.bias");
                var next = new double[shape[0]];
                for (int o = 0; o < next.Length; o++)
                {
                    double s = b[o];
                    for (int i = 0; i < shape[1]; i++) s += w[o * shape[1] + i] * h[i];
                    next[o] = l + 1 < layers ? TestKit.Act(s, activation) : s;
                }
                h = next;
            }
            result[r] = h;
        }
        return result;
    }

    private static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static double[][] Probabilities(Mlp model, float[] raw, int rows) =>
        Predictor.Predict(model, raw, rows).Cast<ClassPrediction>().Select(p => p.Probabilities).ToArray();

    // ---- the layout -----------------------------------------------------------------------

    [Fact]
    public void HeaderNamesDtypesShapesOffsetsAndMetadataFollowTheStandard()
    {
        var model = WorkedModel();
        var bytes = SafeTensorsFormat.ToBytes(model);
        var file = Parse(bytes);

        // Header: a JSON object padded with spaces so that the data starts at a multiple of 8.
        Assert.Equal(0, file.HeaderLength % 8);
        Assert.StartsWith("{", file.HeaderText);
        var trimmed = file.HeaderText.TrimEnd(' ');
        Assert.EndsWith("}", trimmed);
        Assert.InRange(file.HeaderText.Length - trimmed.Length, 0, 7);

        // Names in Sequential order, activations at the odd indices, none after the last Linear.
        Assert.Equal(new[] { "__metadata__", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias" }, file.Keys);
        Assert.All(file.Tensors, t => Assert.Equal("F32", t.DType));

        var widths = model.Widths;
        Assert.Equal(new[] { 4, 9, 6, 3 }, widths); // the neuron pruning shrank the hidden layers
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(new long[] { widths[l + 1], widths[l] }, file[$"{2 * l}.weight"].Shape);
            Assert.Equal(new long[] { widths[l + 1] }, file[$"{2 * l}.bias"].Shape);
        }

        // Offsets: contiguous in header order from 0, 4 bytes per value, covering the data exactly.
        long at = 0;
        foreach (var t in file.Tensors)
        {
            Assert.Equal(at, t.Begin);
            Assert.Equal(4 * t.Shape.Aggregate(1L, (a, d) => a * d), t.End - t.Begin);
            at = t.End;
        }
        Assert.Equal(file.Data.LongLength, at);

        // Layers after the first are stored as they are (the first holds the folded normalization).
        for (int l = 1; l < 3; l++)
        {
            TestKit.BitEqual(TestKit.W(model, l).Select(v => v == 0 ? 0f : v).ToArray(), file.Values($"{2 * l}.weight"), $"layer {l} weights");
            TestKit.BitEqual(model.GetBias(l), file.Values($"{2 * l}.bias"), $"layer {l} bias");
        }

        var m = file.Meta;
        Assert.Equal("pt", m["format"]);
        Assert.Equal("1", m["sparseprune_format"]);
        Assert.StartsWith("SparsePrune ", m["writer"]);
        Assert.Equal("iris-st", m["name"]);
        Assert.Equal("Classification", m["task"]);
        Assert.Equal("[4,9,6,3]", m["widths"]);
        Assert.Equal("Tanh", m["activation"]);
        Assert.Equal("Tanh", m["torch_activation"]);
        Assert.Equal("{}", m["torch_activation_kwargs"]);
        Assert.Equal("raw", m["inputs"]);
        Assert.Equal("Standard", m["folded_normalization"]);
        Assert.Equal(model.ClassNames, JsonSerializer.Deserialize<string[]>(m["class_names"]));
        Assert.Equal(model.FeatureNames, JsonSerializer.Deserialize<string[]>(m["feature_names"]));
        Assert.Equal("71", m["seed"]);
    }

    [Theory]
    [InlineData(nameof(Activation.ReLU), "ReLU", "{}")]
    [InlineData(nameof(Activation.Tanh), "Tanh", "{}")]
    [InlineData(nameof(Activation.Sigmoid), "Sigmoid", "{}")]
    [InlineData(nameof(Activation.GELU), "GELU", "{}")]
    [InlineData(nameof(Activation.LeakyReLU), "LeakyReLU", "{\"negative_slope\": 0.01}")]
    public void EveryActivationNamesItsTorchModule(string activationName, string module, string kwargs)
    {
        var activation = Activation.Parse(activationName);
        var file = Parse(SafeTensorsFormat.ToBytes(Mlp.Create(new[] { 3, 5, 2 }, activation, seed: 72)));
        Assert.Equal(activation.ToString(), file.Meta["activation"]);
        Assert.Equal(module, file.Meta["torch_activation"]);
        Assert.Equal(kwargs, file.Meta["torch_activation_kwargs"]);
        Assert.Equal("None", file.Meta["folded_normalization"]); // never trained: nothing to fold
        Assert.False(file.Meta.ContainsKey("class_names"));
        Assert.Equal(new[] { "__metadata__", "0.weight", "0.bias", "2.weight", "2.bias" }, file.Keys);
    }

    // ---- folding ------------------------------------------------------------------------

    [Fact]
    public void TheFoldedNetworkOnRawRowsGivesTheModelsOutputs()
    {
        var data = TestKit.Digits; // 64 raw features from 0 to 16: offsets far from 0
        var model = Mlp.Create(new[] { 64, 32, 10 }, Activation.ReLU, seed: 73);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, Seed = 2 });
        TestKit.Sparsify(model, 0.5, data: data);
        TestKit.Prune(model, 0.3, data: data);
        Assert.NotNull(model.FeatureOffset);
        Assert.Contains(model.FeatureOffset!, v => Math.Abs(v) > 1);

        var file = Parse(SafeTensorsFormat.ToBytes(model));
        var raw = TestKit.RawTestRows(data);
        int rows = data.TestCount;
        var expected = Probabilities(model, raw, rows);
        var actual = FileForward(file, raw, rows, Activation.ReLU).Select(Softmax).ToArray();
        double worst = 0;
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < 10; k++) worst = Math.Max(worst, Math.Abs(expected[r][k] - actual[r][k]));
        Assert.InRange(worst, 0, 1e-5);

        // The first layer is W / scale and b − (W / scale)·offset.
        var w = TestKit.W(model, 0);
        var b = model.GetBias(0);
        var fw = file.Values("0.weight");
        var fb = file.Values("0.bias");
        var (offset, scale) = (model.FeatureOffset!, model.FeatureScale!);
        for (int o = 0; o < 32; o++)
        {
            double shift = 0;
            for (int i = 0; i < 64; i++)
            {
                double folded = w[o * 64 + i] / (double)scale[i];
                Assert.Equal((float)folded, fw[o * 64 + i]);
                shift += fw[o * 64 + i] * (double)offset[i];
            }
            Assert.Equal(b[o] - shift, fb[o], 1e-4);
        }
    }

    [Fact]
    public void AFoldedRegressorGivesTheSameValues()
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(new[] { 10, 6, 1 }, Activation.Sigmoid, seed: 74);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, Seed = 3 });
        var file = Parse(SafeTensorsFormat.ToBytes(model));
        Assert.Equal("Regression", file.Meta["task"]);
        var raw = TestKit.RawTestRows(data);
        var expected = Predictor.Predict(model, raw, data.TestCount).Cast<RegressionPrediction>().Select(p => p.Value).ToArray();
        var actual = FileForward(file, raw, data.TestCount, Activation.Sigmoid).Select(o => o[0]).ToArray();
        for (int r = 0; r < expected.Length; r++)
            Assert.InRange(Math.Abs(expected[r] - actual[r]), 0, 1e-5 * Math.Max(1, Math.Abs(expected[r])));
    }

    [Fact]
    public void MaskedAndDeletedWeightsAreZerosInPlace()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 16, 8, 3 }, Activation.ReLU, seed: 75);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = 4 });
        TestKit.Prune(model, 0.3, data: data);
        TestKit.Sparsify(model, 0.6, data: data);
        Assert.All(model.State, l => { Assert.NotNull(l.Keep); Assert.NotNull(l.Deleted); });

        var file = Parse(SafeTensorsFormat.ToBytes(model));
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var stored = file.Values($"{2 * l}.weight");
            var zeros = TestKit.ZeroSet(w);
            Assert.True(zeros.Count >= (int)(0.6 * w.Length), $"layer {l}: {zeros.Count} zeros");
            Assert.Equal(zeros, TestKit.ZeroSet(stored));
            foreach (int k in zeros) Assert.Equal(0, BitConverter.SingleToInt32Bits(stored[k])); // +0, exactly
            // The masked and deleted positions are among them.
            var masked = TestKit.Bools(model.State[l].Keep).Select((keep, k) => (keep, k)).Where(p => !p.keep).Select(p => p.k);
            var deleted = TestKit.Bools(model.State[l].Deleted).Select((v, k) => (v, k)).Where(p => p.v).Select(p => p.k);
            Assert.Subset(zeros, masked.Concat(deleted).ToHashSet());
        }
    }

    [Fact]
    public void NeuronPrunedLayersKeepTheirNewShapes()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 12, 8, 3 }, Activation.GELU, seed: 76);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 5 });
        TestKit.Prune(model, 0.5, PruneStructure.Neuron, data: data);
        Assert.Equal(new[] { 4, 6, 4, 3 }, model.Widths);

        var file = Parse(SafeTensorsFormat.ToBytes(model));
        Assert.Equal(new long[] { 6, 4 }, file["0.weight"].Shape);
        Assert.Equal(new long[] { 6 }, file["0.bias"].Shape);
        Assert.Equal(new long[] { 4, 6 }, file["2.weight"].Shape);
        Assert.Equal(new long[] { 3, 4 }, file["4.weight"].Shape);
        Assert.Equal("[4,6,4,3]", file.Meta["widths"]);

        var copy = SafeTensorsFormat.FromBytes(SafeTensorsFormat.ToBytes(model));
        Assert.Equal(model.Widths, copy.Widths);
    }

    // ---- reading back ---------------------------------------------------------------------

    [Fact]
    public void RoundTripGivesTheSameModelOnRawInputs()
    {
        var model = WorkedModel();
        var bytes = SafeTensorsFormat.ToBytes(model);
        var copy = SafeTensorsFormat.FromBytes(bytes);

        Assert.Equal("iris-st", copy.Name);
        Assert.Equal(model.Widths, copy.Widths);
        Assert.Equal(Activation.Tanh, copy.Activation);
        Assert.Equal(TaskKind.Classification, copy.Task);
        Assert.Equal(71, copy.Seed);
        Assert.Equal(model.ClassNames, copy.ClassNames);
        Assert.Equal(model.FeatureNames, copy.FeatureNames);
        Assert.Equal(Normalization.None, copy.InputNormalization);
        Assert.All(copy.FeatureOffset!, v => Assert.Equal(0f, v));
        Assert.All(copy.FeatureScale!, v => Assert.Equal(1f, v));
        Assert.Null(copy.Baseline);
        Assert.Empty(copy.History);
        Assert.Equal(model.NonZeroWeights, copy.NonZeroWeights);
        Assert.All(copy.Layers, l => Assert.Equal(LayerStorage.Dense, l.Stored));

        var raw = TestKit.RawTestRows(TestKit.Iris);
        int rows = TestKit.Iris.TestCount;
        var a = Probabilities(model, raw, rows);
        var b = Probabilities(copy, raw, rows);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < 3; k++) Assert.InRange(Math.Abs(a[r][k] - b[r][k]), 0, 1e-5);

        // The imported model takes raw inputs: exporting it again folds nothing and gives the same tensors.
        var again = Parse(SafeTensorsFormat.ToBytes(copy));
        Assert.Equal(Parse(bytes).Data, again.Data);
        Assert.Equal("None", again.Meta["folded_normalization"]);

        // A data set attached later is mapped back to raw values: the accuracy is the original's.
        copy.AttachDataset(TestKit.Iris);
        // (A row on a decision boundary could flip by rounding: at most one.)
        Assert.InRange(Math.Abs(Evaluator.Evaluate(model, TestKit.Iris).Value - Evaluator.Evaluate(copy, TestKit.Iris).Value), 0, 1.0 / TestKit.Iris.TestCount + 1e-12);
    }

    [Fact]
    public void APlainStateDictNeedsItsActivationNamed()
    {
        var tensors = new (string, long[], float[])[]
        {
            ("0.weight", new long[] { 5, 3 }, Floats(15, 1)), ("0.bias", new long[] { 5 }, Floats(5, 2)),
            ("2.weight", new long[] { 2, 5 }, Floats(10, 3)), ("2.bias", new long[] { 2 }, Floats(2, 4)),
        };
        var plain = Build(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var e = TestKit.Throws("ActivationRequired", () => SafeTensorsFormat.FromBytes(plain));
        Assert.Contains("-Activation", e.Message);
        TestKit.Throws("ActivationRequired", () => SafeTensorsFormat.FromBytes(Build(tensors)));

        var model = SafeTensorsFormat.FromBytes(plain, Activation.Sigmoid, name: "plain");
        Assert.Equal(new[] { 3, 5, 2 }, model.Widths);
        Assert.Equal(Activation.Sigmoid, model.Activation);
        Assert.Equal(TaskKind.Classification, model.Task);
        Assert.Equal("plain", model.Name);
        var x = TestKit.RandomRows(4, 3, 5, 2.0);
        var expected = FileForward(Parse(plain), x, 4, Activation.Sigmoid).Select(Softmax).ToArray();
        var actual = Probabilities(model, x, 4);
        for (int r = 0; r < 4; r++)
            for (int k = 0; k < 2; k++) Assert.InRange(Math.Abs(expected[r][k] - actual[r][k]), 0, 1e-6);

        // One output: a regression.
        var regressor = Build(new (string, long[], float[])[] { ("0.weight", new long[] { 1, 3 }, Floats(3, 6)), ("0.bias", new long[] { 1 }, Floats(1, 7)) });
        Assert.Equal(TaskKind.Regression, SafeTensorsFormat.FromBytes(regressor, Activation.ReLU).Task);

        // A file of ours names its activation: -Activation may only agree with it.
        var ours = SafeTensorsFormat.ToBytes(Mlp.Create(new[] { 3, 4, 2 }, Activation.Tanh, seed: 77));
        Assert.Equal(Activation.Tanh, SafeTensorsFormat.FromBytes(ours, Activation.Tanh).Activation);
        TestKit.Throws("ActivationMismatch", () => SafeTensorsFormat.FromBytes(ours, Activation.ReLU));
    }

    public static IEnumerable<object[]> DamagedFiles()
    {
        // A valid file of ours to damage: widths 4,9,6,3.
        var valid = SafeTensorsFormat.ToBytes(WorkedModel());
        var p = Parse(valid);
        long dataStart = 8 + p.HeaderLength;
        var ourMeta = p.Meta;

        byte[] WithLength(ulong n) { var b = valid.ToArray(); BinaryPrimitives.WriteUInt64LittleEndian(b, n); return b; }
        byte[] Offsets(string name, long begin, long end) => EditHeader(valid, h => h[name]!["data_offsets"] = new JsonArray(begin, end));
        byte[] Value(int index, float value) { var b = valid.ToArray(); BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan((int)dataStart + 4 * index), value); return b; }
        byte[] Meta(string key, string value) => EditHeader(valid, h => h["__metadata__"]![key] = value);
        var w0 = p["0.weight"];
        var b0 = p["0.bias"];
        var last = p.Tensors[^1];

        yield return new object[] { "header length beyond the end of the file", WithLength((ulong)valid.Length), "TruncatedModelFile", "header length" };
        yield return new object[] { "header length of 2^64 - 1", WithLength(ulong.MaxValue), "TruncatedModelFile", "header length" };
        yield return new object[] { "header length 0", WithLength(0), "CorruptModelFile", "too short" };
        yield return new object[] { "header length cutting the JSON short", WithLength((ulong)p.HeaderLength - 16), "CorruptModelFile", "JSON" };
        yield return new object[] { "shorter than a header length", valid.AsSpan(0, 5).ToArray(), "TruncatedModelFile", "8-byte" };
        yield return new object[] { "header that is not JSON", Build("{\"0.weight\": [", p.Data), "CorruptModelFile", "JSON" };
        yield return new object[] { "header that is a JSON array", Build("[1, 2]", p.Data), "CorruptModelFile", "{" };
        yield return new object[] { "a name twice", Build("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},\"0.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]}}", new byte[8]), "CorruptModelFile", "twice" };
        yield return new object[] { "overlapping offsets", Offsets("0.bias", b0.Begin - 4, b0.End - 4), "CorruptModelFile", "overlaps" };
        yield return new object[] { "a gap before a tensor", Offsets("0.weight", w0.Begin + 4, w0.End + 4), "CorruptModelFile", "unused bytes" };
        yield return new object[] { "offsets past the data", Offsets(last.Name, last.Begin + 8, last.End + 8), "TruncatedModelFile", last.Name };
        yield return new object[] { "offsets that do not fit the shape", Offsets(last.Name, last.Begin, last.End - 4), "CorruptModelFile", "shape needs" };
        yield return new object[] { "begin after end", Offsets(last.Name, last.End, last.Begin), "CorruptModelFile", "begin" };
        yield return new object[] { "a negative offset", Offsets(last.Name, -4, last.End), "CorruptModelFile", "non-negative" };
        yield return new object[] { "dtype F16", EditHeader(valid, h => h["2.weight"]!["dtype"] = "F16"), "UnsupportedModelFile", "F16" };
        yield return new object[] { "dtype F64", EditHeader(valid, h => h["0.bias"]!["dtype"] = "F64"), "UnsupportedModelFile", "F32" };
        yield return new object[] { "no dtype", EditHeader(valid, h => h["0.bias"]!.AsObject().Remove("dtype")), "CorruptModelFile", "dtype" };
        yield return new object[] { "a weight of rank 3", EditHeader(valid, h => h["0.weight"]!["shape"] = new JsonArray(9, 2, 2)), "CorruptModelFile", "[out, in]" };
        yield return new object[] { "a bias longer than the weight's rows", EditHeader(valid, h => h["0.bias"]!["shape"] = new JsonArray(10)), "CorruptModelFile", "outputs" };
        yield return new object[] { "bytes after the last tensor", valid.Concat(new byte[4]).ToArray(), "CorruptModelFile", "follow the last tensor" };
        yield return new object[] { "data cut short", valid.AsSpan(0, valid.Length - 4).ToArray(), "TruncatedModelFile", "ends at" };
        yield return new object[] { "a NaN weight", Value(3, float.NaN), "CorruptModelFile", "NaN" };
        yield return new object[] { "an infinite bias", Value((int)(b0.Begin / 4), float.PositiveInfinity), "CorruptModelFile", "infinite" };
        yield return new object[] { "an unknown activation", Meta("activation", "Swish"), "UnsupportedModelFile", "Swish" };
        yield return new object[] { "a newer layout version", Meta("sparseprune_format", "2"), "UnsupportedModelFile", "version" };
        yield return new object[] { "widths that disagree with the tensors", Meta("widths", "[4,9,6,4]"), "CorruptModelFile", "widths" };
        yield return new object[] { "widths that are not JSON", Meta("widths", "4,9,6,3"), "CorruptModelFile", "widths" };
        yield return new object[] { "an unknown task", Meta("task", "Ranking"), "CorruptModelFile", "Ranking" };
        yield return new object[] { "class names that do not fit", Meta("class_names", "[\"a\",\"b\"]"), "CorruptModelFile", "classes" };
        yield return new object[] { "metadata that is not strings", EditHeader(valid, h => h["__metadata__"]!["seed"] = 3), "CorruptModelFile", "seed" };

        // Built from scratch: the shapes, names and numbering.
        var m = new Dictionary<string, string>(ourMeta) { ["widths"] = "[3,2,2]" };
        m.Remove("class_names"); m.Remove("feature_names");
        (string, long[], float[]) T(string name, params long[] shape) => (name, shape, Floats((int)shape.Aggregate(1L, (a, d) => a * d), name.Length));
        yield return new object[] { "shape chain broken", Build(new[] { T("0.weight", 2, 3), T("0.bias", 2), T("2.weight", 2, 4), T("2.bias", 2) }, m), "CorruptModelFile", "chain" };
        yield return new object[] { "a bias missing (ours)", Build(new[] { T("0.weight", 2, 3), T("0.bias", 2), T("2.weight", 2, 2) }, m), "CorruptModelFile", "2.bias" };
        yield return new object[] { "a weight missing (plain)", Build(new[] { T("0.weight", 2, 3), T("0.bias", 2), T("2.bias", 2) }), "UnsupportedModelFile", "2.weight" };
        yield return new object[] { "Linear layers at 0 and 3 (a Dropout between)", Build(new[] { T("0.weight", 2, 3), T("0.bias", 2), T("3.weight", 2, 2), T("3.bias", 2) }), "UnsupportedModelFile", "0, 3" };
        yield return new object[] { "names of a module that is not a Sequential", Build(new[] { T("fc1.weight", 2, 3), T("fc1.bias", 2) }), "UnsupportedModelFile", "fc1.weight" };
        yield return new object[] { "no tensors at all", Build("{\"__metadata__\":{\"format\":\"pt\"}}", Array.Empty<byte>()), "CorruptModelFile", "no tensors" };
        yield return new object[] { "a zero width", Build(new[] { T("0.weight", 0, 3), T("0.bias", 0) }, m), "CorruptModelFile", "width" };
    }

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void DamagedFilesAreRefusedWithAClearError(string damage, byte[] bytes, string errorId, string hint)
    {
        var e = TestKit.Throws(errorId, () => SafeTensorsFormat.FromBytes(bytes, source: "the file"));
        Assert.True(e.Message.Contains(hint, StringComparison.Ordinal), $"{damage}: '{e.Message}' should mention '{hint}'");
        Assert.StartsWith("the file", e.Message);
    }

    // ---- files ------------------------------------------------------------------------

    [Fact]
    public void SavingIsAtomicRefusesToOverwriteAndLoadingTellsTheFormatsApartByContent()
    {
        var dir = TestKit.TempDir();
        try
        {
            var model = WorkedModel();
            var path = Path.Combine(dir, "model.safetensors");
            Assert.Equal(ModelFileFormat.SafeTensors, ModelFile.FormatFor(path, null));
            Assert.Equal(ModelFileFormat.Spmlp, ModelFile.FormatFor(Path.Combine(dir, "model.spmlp"), null));
            Assert.Equal(ModelFileFormat.Spmlp, ModelFile.FormatFor(path, ModelFileFormat.Spmlp));
            Assert.Equal(ModelFileFormat.SafeTensors, ModelFile.FormatFor(Path.Combine(dir, "model.bin"), ModelFileFormat.SafeTensors));

            ModelFile.Save(model, path, ModelFileFormat.SafeTensors, force: false);
            Assert.Equal(SafeTensorsFormat.ToBytes(model).Length, new FileInfo(path).Length);
            Assert.Equal("iris-st", ModelFile.Load(path).Name);

            // No overwrite without force: error, the file unchanged.
            var onDisk = File.ReadAllBytes(path);
            var other = Mlp.Create(new[] { 4, 3, 3 }, seed: 78, name: "other");
            TestKit.Throws("ModelFileExists", () => ModelFile.Save(other, path, ModelFileFormat.SafeTensors, force: false));
            Assert.Equal(onDisk, File.ReadAllBytes(path));
            ModelFile.Save(other, path, ModelFileFormat.SafeTensors, force: true);
            Assert.Equal("other", ModelFile.Load(path).Name);

            // The content decides, not the extension.
            var spmlpNamedSafetensors = Path.Combine(dir, "really-spmlp.safetensors");
            ModelFile.Save(model, spmlpNamedSafetensors, ModelFileFormat.Spmlp, force: false);
            var exact = ModelFile.Load(spmlpNamedSafetensors);
            Assert.NotNull(exact.Baseline); // only .spmlp keeps it
            var safetensorsNamedSpmlp = Path.Combine(dir, "really-safetensors.spmlp");
            ModelFile.Save(model, safetensorsNamedSpmlp, ModelFileFormat.SafeTensors, force: false);
            Assert.Null(ModelFile.Load(safetensorsNamedSpmlp).Baseline);

            TestKit.Throws("ParameterNotApplicable", () => ModelFile.Load(spmlpNamedSafetensors, Activation.ReLU));
            var foreign = Path.Combine(dir, "foreign.safetensors");
            File.WriteAllText(foreign, "sepal_length,sepal_width\n5.1,3.5\n");
            TestKit.Throws("NotAModelFile", () => ModelFile.Load(foreign));
            TestKit.Throws("ModelFileNotFound", () => ModelFile.Load(Path.Combine(dir, "missing.safetensors")));
            TestKit.Throws("PathIsDirectory", () => ModelFile.Save(model, dir, ModelFileFormat.SafeTensors, force: true));

            // A model whose normalization cannot be folded into float32 leaves no file behind.
            var tiny = model.Clone("tiny");
            tiny.Scaling = tiny.Scaling! with { Scale = new[] { float.Epsilon, 1f, 1f, 1f } };
            var tinyPath = Path.Combine(dir, "tiny.safetensors");
            TestKit.Throws("CannotFoldNormalization", () => ModelFile.Save(tiny, tinyPath, ModelFileFormat.SafeTensors, force: false));
            Assert.False(File.Exists(tinyPath));

            // No temporary files are left behind.
            Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
