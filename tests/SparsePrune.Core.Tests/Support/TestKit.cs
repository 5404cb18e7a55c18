using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Shared helpers: cached data sets, model snapshots, managed (brute-force) reference
/// computations that the tests compare Core's results against.
/// </summary>
internal static class TestKit
{
    // ---- data sets (immutable, so one instance serves every test) ------------------------

    private static readonly Lazy<Dataset> _digits = new(() => DatasetLoader.Digits(new DatasetOptions { Seed = 42 }));
    private static readonly Lazy<Dataset> _iris = new(() => DatasetLoader.Iris(new DatasetOptions { Seed = 42 }));
    private static readonly Lazy<Dataset> _synthetic = new(() => DatasetLoader.Synthetic(new DatasetOptions { Seed = 42 }));

    public static Dataset Digits => _digits.Value;
    public static Dataset Iris => _iris.Value;
    public static Dataset Synthetic => _synthetic.Value;

    // ---- errors ------------------------------------------------------------------------

    public static SparsePruneException Throws(string errorId, Action action)
    {
        var e = Assert.Throws<SparsePruneException>(action);
        Assert.Equal(errorId, e.ErrorId);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        return e;
    }

    // ---- reading and writing layer values -------------------------------------------------

    public static float[] Flat(float[,] w)
    {
        var flat = new float[w.Length];
        int cols = w.GetLength(1);
        for (int r = 0; r < w.GetLength(0); r++)
            for (int c = 0; c < cols; c++) flat[r * cols + c] = w[r, c];
        return flat;
    }

    public static float[] W(Mlp model, int layer) => Flat(model.GetWeight(layer));

    public static float[] Floats(Tensor? t) => t is null ? Array.Empty<float>() : t.data<float>().ToArray();

    public static bool[] Bools(Tensor? t) => t is null ? Array.Empty<bool>() : t.data<bool>().ToArray();

    /// <summary>Replaces layer <paramref name="layer"/>'s weights (out × in, row-major) with <paramref name="values"/>.</summary>
    public static void SetWeight(Mlp model, int layer, float[] values)
    {
        var l = model.State[layer];
        Assert.Equal(l.DenseWeights, values.LongLength);
        l.SetWeight(torch.tensor(values, new long[] { l.OutFeatures, l.InFeatures }));
    }

    public static void SetBias(Mlp model, int layer, float[] values)
    {
        var l = model.State[layer];
        Assert.Equal(l.OutFeatures, values.Length);
        l.SetBias(torch.tensor(values, new long[] { l.OutFeatures }));
    }

    /// <summary>Flat indices of the entries equal to 0.</summary>
    public static HashSet<int> ZeroSet(float[] values) =>
        Enumerable.Range(0, values.Length).Where(i => values[i] == 0f).ToHashSet();

    public static int CountNonZero(float[] values) => values.Count(v => v != 0f);

    public static int CountTrue(bool[] values) => values.Count(v => v);

    /// <summary>
    /// The <paramref name="k"/> lowest scores by a managed stable sort: ties go to the lower
    /// flat index.
    /// </summary>
    public static HashSet<int> LowestK(IReadOnlyList<float> scores, long k) =>
        Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ThenBy(i => i).Take((int)k).ToHashSet();

    public static float[] Abs(float[] v) => v.Select(Math.Abs).ToArray();

    /// <summary>floor(p/q × n) with integer arithmetic (the exact answer, no floating point).</summary>
    public static long ExactFloor(long p, long q, long n) => p * n / q;

    /// <summary>Bit patterns, so that -0 and NaN compare exactly.</summary>
    public static int[] Bits(float[] v) => v.Select(BitConverter.SingleToInt32Bits).ToArray();

    public static void BitEqual(float[] expected, float[] actual, string? what = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    // ---- snapshots ----------------------------------------------------------------------

    /// <summary>A layer's values; <c>Keep</c> is the keep mask (true: kept).</summary>
    public sealed record LayerSnapshot(int Out, int In, float[] Weight, float[] Bias, bool[]? Keep, float[]? MaskedValues, bool[]? Deleted);

    public sealed record ModelSnapshot(LayerSnapshot[] Layers, ModelBaseline? Baseline, int HistoryCount, Dataset? Dataset);

    public static ModelSnapshot Snap(Mlp model) => new(
        model.State.Select(l => new LayerSnapshot(l.OutFeatures, l.InFeatures, Floats(l.Weight), Floats(l.Bias),
            l.Keep is null ? null : Bools(l.Keep), l.MaskedValues is null ? null : Floats(l.MaskedValues),
            l.Deleted is null ? null : Bools(l.Deleted))).ToArray(),
        model.Baseline, model.History.Count, model.Dataset);

    /// <summary>Same tensors, flags, baseline object, history length and data set as the snapshot.</summary>
    public static void SameState(ModelSnapshot expected, Mlp model)
    {
        SameStateIgnoringReferences(expected, model);
        Assert.Same(expected.Baseline, model.Baseline);
        Assert.Equal(expected.HistoryCount, model.History.Count);
        Assert.Same(expected.Dataset, model.Dataset);
    }

    /// <summary>Same layer tensors (bit for bit), masks, hidden values and deletion flags.</summary>
    public static void SameStateIgnoringReferences(ModelSnapshot expected, Mlp model)
    {
        var actual = Snap(model);
        Assert.Equal(expected.Layers.Length, actual.Layers.Length);
        for (int i = 0; i < expected.Layers.Length; i++)
        {
            var e = expected.Layers[i];
            var a = actual.Layers[i];
            Assert.Equal((e.Out, e.In), (a.Out, a.In));
            BitEqual(e.Weight, a.Weight, $"layer {i} weight");
            BitEqual(e.Bias, a.Bias, $"layer {i} bias");
            Assert.Equal(e.Keep is null, a.Keep is null);
            if (e.Keep is not null) Assert.True(e.Keep.SequenceEqual(a.Keep!), $"layer {i} mask");
            Assert.Equal(e.MaskedValues is null, a.MaskedValues is null);
            if (e.MaskedValues is not null)
            {
                // Behind the mask: the exact bits. Elsewhere the hidden value is a zero of either sign.
                Assert.Equal(e.MaskedValues.Length, a.MaskedValues!.Length);
                for (int k = 0; k < e.MaskedValues.Length; k++)
                {
                    if (e.Keep is not null && !e.Keep[k])
                        Assert.True(BitConverter.SingleToInt32Bits(e.MaskedValues[k]) == BitConverter.SingleToInt32Bits(a.MaskedValues[k]), $"layer {i} hidden {k}: {a.MaskedValues[k]:R}, expected {e.MaskedValues[k]:R}");
                    else
                        Assert.True(e.MaskedValues[k] == a.MaskedValues[k], $"layer {i} hidden {k} (not masked): {a.MaskedValues[k]:R}, expected {e.MaskedValues[k]:R}");
                }
            }
            Assert.Equal(e.Deleted is null, a.Deleted is null);
            if (e.Deleted is not null) Assert.Equal(e.Deleted, a.Deleted!);
        }
    }

    // ---- operations ---------------------------------------------------------------------

    /// <summary>An Iris model (Tanh) that has been trained, masked, connection- and neuron-pruned, then masked again.</summary>
    public static Mlp WorkedModel(int seed, string name)
    {
        var data = Iris;
        var model = Mlp.Create(new[] { 4, 12, 8, 3 }, Activation.Tanh, seed: seed, name: name);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = 1 });
        Sparsify(model, 0.4, data: data);
        Prune(model, 0.2, data: data);
        Prune(model, 0.25, PruneStructure.Neuron, data: data);
        Sparsify(model, 0.5, data: data);
        return model;
    }

    public static void Sparsify(Mlp model, double sparsity, PruneScope scope = PruneScope.Layer, Dataset? data = null,
        PruneCriterion method = PruneCriterion.L1, int[]? layers = null, int? seed = null)
    {
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = sparsity, Scope = scope, Method = method, Layers = layers, Seed = seed });
        Sparsifier.Apply(model, plan, data);
    }

    public static PruningPlan Prune(Mlp model, double ratio, PruneStructure structure = PruneStructure.Connection,
        PruneScope scope = PruneScope.Layer, PruneCriterion criterion = PruneCriterion.L1, Dataset? data = null, double? maxLayerSparsity = null)
    {
        var plan = Pruner.Plan(model, new PruningRequest { Ratio = ratio, Structure = structure, Scope = scope, Criterion = criterion, MaxLayerSparsity = maxLayerSparsity });
        Pruner.Apply(model, plan, data);
        return plan;
    }

    // ---- managed reference forward pass ---------------------------------------------------

    /// <summary>The five activations SparsePrune had as an enum, in its order (an index keeps the seeds tests drew from it).</summary>
    public static readonly Activation[] FirstActivations = { Activation.ReLU, Activation.Tanh, Activation.Sigmoid, Activation.GELU, Activation.LeakyReLU };

    public static double Act(double v, Activation a) => a switch
    {
        _ when a == Activation.ReLU => Math.Max(0, v),
        _ when a == Activation.Tanh => Math.Tanh(v),
        _ when a == Activation.Sigmoid => 1 / (1 + Math.Exp(-v)),
        _ when a == Activation.LeakyReLU => v >= 0 ? v : 0.01 * v,
        _ => throw new NotSupportedException(a.ToString()),
    };

    /// <summary>The model's outputs for normalized rows, computed in double from GetWeight/GetBias.</summary>
    public static double[][] ManagedForward(Mlp model, float[] x, int rows)
    {
        int f = model.InputFeatures;
        var result = new double[rows][];
        var weights = Enumerable.Range(0, model.LayerCount).Select(model.GetWeight).ToArray();
        var biases = Enumerable.Range(0, model.LayerCount).Select(model.GetBias).ToArray();
        for (int r = 0; r < rows; r++)
        {
            var h = new double[f];
            for (int j = 0; j < f; j++) h[j] = x[r * f + j];
            for (int l = 0; l < weights.Length; l++)
            {
                var w = weights[l];
                var next = new double[w.GetLength(0)];
                for (int o = 0; o < next.Length; o++)
                {
                    double s = biases[l][o];
                    for (int i = 0; i < h.Length; i++) s += w[o, i] * h[i];
                    next[o] = l + 1 < weights.Length ? Act(s, model.Activation) : s;
                }
                h = next;
            }
            result[r] = h;
        }
        return result;
    }

    /// <summary>Accuracy on the data set's test split, computed with the managed forward pass.</summary>
    public static double ManagedAccuracy(Mlp model, Dataset data)
    {
        var outputs = ManagedForward(model, data.TestX, data.TestCount);
        int correct = 0;
        for (int r = 0; r < outputs.Length; r++)
        {
            int best = 0;
            for (int k = 1; k < outputs[r].Length; k++) if (outputs[r][k] > outputs[r][best]) best = k;
            if (best == (int)data.TestY[r]) correct++;
        }
        return (double)correct / outputs.Length;
    }

    /// <summary>Runs normalized rows through Core's forward pass.</summary>
    public static float[] Forward(Mlp model, float[] x, int rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.Forward(torch.tensor(x, new long[] { rows, model.InputFeatures })).data<float>().ToArray();
    }

    /// <summary>The raw (unnormalized) rows of a data set's test split, as a file's user would feed them.</summary>
    public static float[] RawTestRows(Dataset data)
    {
        var x = data.TestX;
        var raw = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % data.Features;
            raw[i] = (float)((double)x[i] * data.Scale[j] + data.Offset[j]);
        }
        return raw;
    }

    public static float[] RandomRows(int rows, int features, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows * features).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>The path of a file in tests/data, found above the test assembly's folder.</summary>
    public static string DataFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "data", name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"tests/data/{name} was not found above {AppContext.BaseDirectory}");
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sparseprune-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
