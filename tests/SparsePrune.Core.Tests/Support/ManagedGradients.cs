using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Gradients computed by hand: a forward and backward pass in double over a data set's batches
/// (ReLU, Tanh, Sigmoid), and the tiny data sets the criteria's tests check against it.
/// </summary>
public static class ManagedGradients
{
    internal static double ActD(double z, Activation a) => TestKit.Act(z, a);

    internal static double ActGrad(double z, Activation a) => a switch
    {
        _ when a == Activation.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
        _ when a == Activation.ReLU => z > 0 ? 1 : 0,
        _ when a == Activation.Sigmoid => 1 / (1 + Math.Exp(-z)) * (1 - 1 / (1 + Math.Exp(-z))),
        _ => throw new NotSupportedException(),
    };

    /// <summary>
    /// Σ over batches (in order) of <paramref name="term"/>(w, ∂L/∂w) per weight, L the batch's mean
    /// loss, by a hand-written forward and backward pass in double (ReLU, Tanh, Sigmoid).
    /// </summary>
    internal static double[][] ManagedGradientSums(Mlp model, Dataset data, int batchSize, Func<double, double, double> term)
    {
        int L = model.LayerCount, f = data.Features;
        var w = Enumerable.Range(0, L).Select(model.GetWeight).ToArray();
        var b = Enumerable.Range(0, L).Select(model.GetBias).ToArray();
        var sums = w.Select(m => new double[m.Length]).ToArray();
        bool classification = data.Task == TaskKind.Classification;
        for (int start = 0; start < data.TrainCount; start += batchSize)
        {
            int count = Math.Min(batchSize, data.TrainCount - start);
            var grads = w.Select(m => new double[m.GetLength(0), m.GetLength(1)]).ToArray();
            for (int r = start; r < start + count; r++)
            {
                // Forward, keeping pre-activations and layer inputs.
                var inputs = new double[L][];
                var pre = new double[L][];
                var h = Enumerable.Range(0, f).Select(j => (double)data.TrainX[r * f + j]).ToArray();
                for (int l = 0; l < L; l++)
                {
                    inputs[l] = h;
                    int o = w[l].GetLength(0);
                    pre[l] = new double[o];
                    for (int i = 0; i < o; i++)
                    {
                        double s = b[l][i];
                        for (int j = 0; j < h.Length; j++) s += w[l][i, j] * h[j];
                        pre[l][i] = s;
                    }
                    h = l + 1 < L ? pre[l].Select(z => ActD(z, model.Activation)).ToArray() : pre[l];
                }
                // dL/d(output) of this row's share of the batch mean.
                var delta = new double[h.Length];
                if (classification)
                {
                    double m = h.Max();
                    var e = h.Select(v => Math.Exp(v - m)).ToArray();
                    double z = e.Sum();
                    int y = (int)data.TrainY[r];
                    for (int k = 0; k < h.Length; k++) delta[k] = (e[k] / z - (k == y ? 1 : 0)) / count;
                }
                else delta[0] = 2 * (h[0] - data.TrainY[r]) / count;
                for (int l = L - 1; l >= 0; l--)
                {
                    for (int i = 0; i < delta.Length; i++)
                        for (int j = 0; j < inputs[l].Length; j++) grads[l][i, j] += delta[i] * inputs[l][j];
                    if (l == 0) break;
                    var next = new double[inputs[l].Length];
                    for (int j = 0; j < next.Length; j++)
                    {
                        double s = 0;
                        for (int i = 0; i < delta.Length; i++) s += w[l][i, j] * delta[i];
                        next[j] = s * ActGrad(pre[l - 1][j], model.Activation);
                    }
                    delta = next;
                }
            }
            for (int l = 0; l < L; l++)
            {
                int cols = w[l].GetLength(1);
                for (int i = 0; i < w[l].GetLength(0); i++)
                    for (int j = 0; j < cols; j++) sums[l][i * cols + j] += term(w[l][i, j], grads[l][i, j]);
            }
        }
        return sums;
    }

    internal static Dataset TinyClassification() => DatasetLoader.FromTable("tiny-c", new[] { "a", "b", "c", "label" }, new[]
    {
        new[] { "0.5", "-1.25", "2", "p" },
        new[] { "1.5", "0.75", "-0.5", "q" },
        new[] { "-2", "0.25", "1", "r" },
        new[] { "0.1", "0.2", "0.3", "q" },
        new[] { "-0.7", "-1.1", "0.9", "p" },
        new[] { "2.2", "-0.4", "-1.3", "r" },
        new[] { "0.9", "1.6", "0.05", "p" },
    }, 3, new DatasetOptions { TestFraction = 0, Normalization = Normalization.None, Seed = 1 });

    internal static Dataset TinyRegression() => DatasetLoader.FromTable("tiny-r", new[] { "x1", "x2", "y" }, new[]
    {
        new[] { "0.5", "-1.25", "0.3" },
        new[] { "1.5", "0.75", "-1.2" },
        new[] { "-2", "0.25", "2.5" },
        new[] { "0.1", "0.2", "0.7" },
        new[] { "-0.7", "-1.1", "-0.4" },
    }, 2, new DatasetOptions { TestFraction = 0, Normalization = Normalization.None, Seed = 1, Task = TaskKind.Regression });
}
