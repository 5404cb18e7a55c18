using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Metrics and timing of a model on a data set.</summary>
public static class Evaluator
{
    private const int Chunk = 4096;

    /// <summary>Accuracy (classification) or mean squared error (regression) on the evaluation split.</summary>
    public static MetricResult Evaluate(Mlp model, Dataset data)
    {
        var (accuracy, loss, _) = Score(model, data);
        return data.Task == TaskKind.Classification ? new MetricResult("Accuracy", accuracy!.Value) : new MetricResult("Loss", loss);
    }

    internal static (double? Accuracy, double Loss, int Samples) Score(Mlp model, Dataset data)
    {
        long correct = 0;
        double lossSum = 0;
        int n = ForwardEvaluationSplit(model, data, (output, yb, _) =>
        {
            if (data.Task == TaskKind.Classification)
            {
                var labels = yb.to_type(ScalarType.Int64);
                lossSum += nn.functional.cross_entropy(output, labels, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).item<double>();
                correct += output.argmax(1).eq(labels).sum().item<long>();
            }
            else
            {
                lossSum += nn.functional.mse_loss(output.squeeze(1).to_type(ScalarType.Float64), yb.to_type(ScalarType.Float64), reduction: nn.Reduction.Sum).item<double>();
            }
        });
        double? acc = data.Task == TaskKind.Classification ? (n == 0 ? 0 : (double)correct / n) : null;
        return (acc, n == 0 ? 0 : lossSum / n, n);
    }

    /// <summary>
    /// Runs <paramref name="model"/> over the evaluation split of <paramref name="data"/> (its
    /// columns and normalization as the model takes them) in chunks, handing each chunk's outputs,
    /// targets and first row to <paramref name="visit"/> inside the chunk's dispose scope, so a
    /// large split's tensors are freed as the loop goes. Returns the number of rows.
    /// </summary>
    internal static int ForwardEvaluationSplit(Mlp model, Dataset data, Action<Tensor, Tensor, int> visit)
    {
        ModelInputs.CheckCompatible(model, data);
        var (x, y) = data.EvaluationSplit;
        x = ModelInputs.For(model, data, x);
        int f = data.Features, n = y.Length;
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(Chunk, n - start);
            var xb = NativeCopy.Floats(x.AsSpan((int)((long)start * f), count * f), new long[] { count, f }).to(model.TorchDevice);
            var yb = tensor(y.AsSpan(start, count).ToArray()).to(model.TorchDevice);
            visit(model.Forward(xb), yb, start);
        }
        return n;
    }

    /// <summary>Metric, loss and latency (median single-row forward; batched throughput).</summary>
    public static Measurement Measure(Mlp model, Dataset data, int repeats = 50, int batchSize = 256)
    {
        var (acc, loss, samples) = Score(model, data);
        var x = ModelInputs.For(model, data, data.EvaluationSplit.X);
        int f = data.Features;
        int available = x.Length / f;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var pool = NativeCopy.Floats(x.AsSpan(0, Math.Min(available, batchSize) * f), new long[] { Math.Min(available, batchSize), f }).to(model.TorchDevice);
        var one = pool.narrow(0, 0, 1).contiguous();
        var times = new double[repeats];
        for (int i = 0; i < 5; i++) { using var s = NewDisposeScope(); model.Forward(one); }
        for (int i = 0; i < repeats; i++)
        {
            using var s = NewDisposeScope();
            var sw = Stopwatch.StartNew();
            model.Forward(one);
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        for (int i = 0; i < 2; i++) { using var s = NewDisposeScope(); model.Forward(pool); }
        var batchWatch = Stopwatch.StartNew();
        int batchRuns = Math.Max(3, repeats / 5);
        for (int i = 0; i < batchRuns; i++) { using var s = NewDisposeScope(); model.Forward(pool); }
        double perBatch = batchWatch.Elapsed.TotalSeconds / batchRuns;
        return new Measurement
        {
            Model = model.Name,
            Dataset = data.Name,
            MetricName = data.Task == TaskKind.Classification ? "Accuracy" : "Loss",
            Accuracy = acc,
            Loss = loss,
            LatencyMs = times[times.Length / 2],
            Throughput = perBatch > 0 ? pool.shape[0] / perBatch : 0,
            BatchSize = (int)pool.shape[0],
            Samples = samples,
            Sparsity = model.Sparsity,
            OverallSparsity = model.OverallSparsity,
            Parameters = model.Parameters,
        };
    }
}
