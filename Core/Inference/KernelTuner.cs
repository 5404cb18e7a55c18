using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Forward-pass timing and the per-layer choice of kernel.</summary>
public static class KernelTuner
{
    /// <summary>Upper bound on the timed runs of one batch size once the warm-up is done and 5 runs are in.</summary>
    public static readonly TimeSpan TimeCap = TimeSpan.FromSeconds(10);

    internal static void ValidateBatchSizes(int[]? sizes)
    {
        if (sizes is null || sizes.Length == 0) throw SparsePruneException.Argument("InvalidBatchSize", "-BatchSize needs at least one batch size.");
        foreach (var b in sizes)
            if (b < 1 || b > 1 << 16) throw SparsePruneException.Argument("InvalidBatchSize", $"Every -BatchSize must be from 1 to 65536; got {b}.");
    }

    /// <summary>Untimed runs before each timed series (first-call allocation, kernel choice).</summary>
    public const int DefaultWarmup = 5;
    /// <summary>Timed passes per kernel when Optimize-Mlp compares a layer's dense and sparse kernels.</summary>
    public const int DefaultOptimizeRepeat = 20;

    /// <summary>
    /// Median forward-pass latency per batch size, after <paramref name="warmup"/> untimed runs.
    /// Inputs are rows of <paramref name="data"/>'s evaluation split when given (repeated to fill
    /// a batch), else seeded standard-normal rows. Stops between runs when <paramref name="cancel"/> fires.
    /// </summary>
    public static List<LatencyMeasurement> MeasureLatency(Mlp model, int[] batchSizes, Dataset? data = null, int repeat = Evaluator.DefaultRepeats, int warmup = DefaultWarmup,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        ValidateBatchSizes(batchSizes);
        if (repeat < 1) throw SparsePruneException.Argument("InvalidRepeat", $"-Repeat must be at least 1; got {repeat}.");
        if (warmup < 0) throw SparsePruneException.Argument("InvalidWarmup", $"-Warmup must be 0 or more; got {warmup}.");
        if (data is not null) ModelInputs.CheckCompatible(model, data);
        var results = new List<LatencyMeasurement>();
        int threads = get_num_threads();
        using var noGrad = no_grad();
        for (int s = 0; s < batchSizes.Length; s++)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Invoke(new WorkProgress($"Batch size {batchSizes[s]}", s, batchSizes.Length));
            int batch = batchSizes[s];
            using var scope = NewDisposeScope();
            var x = Inputs(model, data, batch);
            var times = Time(() => model.Forward(x), repeat, warmup, cancel);
            results.Add(new LatencyMeasurement
            {
                Model = model.Name, BatchSize = batch, MedianMs = Median(times), MinMs = times.Min(), MaxMs = times.Max(),
                Runs = times.Length, Warmup = warmup, Threads = threads,
                Kernels = model.State.Select(l => l.UsesSparseKernel(batch) ? LayerKernel.Sparse : LayerKernel.Dense).ToArray(),
                Sparsity = model.Sparsity, Parameters = model.Parameters,
            });
        }
        return results;
    }

    /// <summary>
    /// Times every layer stored sparse with the dense product and with the sparse kernel at
    /// <paramref name="batch"/> rows (runs interleaved, medians compared) and fixes the faster as
    /// its kernel. Layers stored dense have no sparse kernel and are left out.
    /// </summary>
    public static List<KernelDecision> Optimize(Mlp model, int batch, int repeat = DefaultOptimizeRepeat, Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        ValidateBatchSizes(new[] { batch });
        if (repeat < 1) throw SparsePruneException.Argument("InvalidRepeat", $"-Repeat must be at least 1; got {repeat}.");
        var decisions = new List<KernelDecision>();
        var state = model.State;
        int threads = get_num_threads();
        var rng = new Random(model.Seed);
        using var noGrad = no_grad();
        for (int i = 0; i < state.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Invoke(new WorkProgress($"Layer {i + 1} of {state.Count}", i, state.Count));
            var layer = state[i];
            if (layer.Stored != LayerStorage.Sparse || layer.Weight.device_type != DeviceType.CPU) continue;
            using var scope = NewDisposeScope();
            var x = Normal(rng, batch, layer.InFeatures);
            var csr = layer.Csr;
            var dense = new List<double>();
            var sparse = new List<double>();
            for (int w = 0; w < 2; w++) { using var s = NewDisposeScope(); nn.functional.linear(x, layer.Weight, layer.Bias); csr.Forward(x, threads); }
            var cap = Stopwatch.StartNew();
            for (int r = 0; r < repeat && (r < 3 || cap.Elapsed < TimeCap); r++)
            {
                cancel.ThrowIfCancellationRequested();
                dense.Add(TimeOnce(() => nn.functional.linear(x, layer.Weight, layer.Bias)));
                sparse.Add(TimeOnce(() => csr.Forward(x, threads)));
            }
            double d = Median(dense.ToArray()), sp = Median(sparse.ToArray());
            decisions.Add(new KernelDecision
            {
                Layer = i, Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Density = csr.Density, BatchSize = batch,
                DenseMs = d, SparseMs = sp, Kernel = sp < d ? LayerKernel.Sparse : LayerKernel.Dense,
            });
        }
        return decisions;
    }

    /// <summary>Fixes the kernels <paramref name="decisions"/> chose (or <paramref name="kernel"/> for every sparse layer) and records it.</summary>
    public static void Apply(Mlp model, IReadOnlyList<KernelDecision>? decisions, LayerKernel? kernel = null, int? batch = null)
    {
        var before = model.Counts;
        var state = model.State;
        string note;
        if (decisions is not null)
        {
            foreach (var d in decisions) state[d.Layer].Kernel = d.Kernel;
            note = decisions.Count == 0 ? "no layer is stored sparse; every layer runs dense" : string.Join("; ", decisions.Select(d => d.ToString()));
        }
        else
        {
            foreach (var l in state) if (l.Stored == LayerStorage.Sparse) l.Kernel = kernel ?? LayerKernel.Auto;
            note = $"every layer stored sparse set to {kernel ?? LayerKernel.Auto}";
        }
        var settings = decisions is not null ? new HistorySettings().Add("BatchSize", batch) : new HistorySettings().Add("Kernel", kernel ?? LayerKernel.Auto);
        model.Record("Optimize", settings, before, null, note);
    }

    private static Tensor Inputs(Mlp model, Dataset? data, int batch)
    {
        int f = model.InputFeatures;
        if (data is not null)
        {
            var x = ModelInputs.For(model, data, data.EvaluationSplit.X);
            int available = x.Length / f;
            if (available > 0)
            {
                var rows = new float[(long)batch * f];
                for (int r = 0; r < batch; r++) Array.Copy(x, (long)(r % available) * f, rows, (long)r * f, f);
                return NativeCopy.Floats(rows, new long[] { batch, f }).to(model.TorchDevice);
            }
        }
        return Normal(new Random(model.Seed), batch, f).to(model.TorchDevice);
    }

    private static Tensor Normal(Random rng, int rows, int cols)
    {
        var v = new float[(long)rows * cols];
        for (long i = 0; i < v.LongLength; i++)
            v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return NativeCopy.Floats(v, new long[] { rows, cols });
    }

    private static double[] Time(Func<Tensor> work, int repeat, int warmup, CancellationToken cancel)
    {
        for (int i = 0; i < warmup; i++) { cancel.ThrowIfCancellationRequested(); using var s = NewDisposeScope(); work(); }
        var times = new List<double>();
        var cap = Stopwatch.StartNew();
        for (int i = 0; i < repeat && (i < 5 || cap.Elapsed < TimeCap); i++)
        {
            cancel.ThrowIfCancellationRequested();
            times.Add(TimeOnce(work));
        }
        return times.ToArray();
    }

    private static double TimeOnce(Func<Tensor> work)
    {
        using var s = NewDisposeScope();
        var sw = Stopwatch.StartNew();
        work();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
