using Xunit;
using static SparsePrune.Tests.ManagedGradients;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Taylor scores (|w·∂L/∂w| summed over the batches) against a hand-written backward pass in
/// double (<see cref="ManagedGradients"/>).
/// </summary>
public class TaylorCriterionTests
{
    /// <summary>Σ over batches (in order) of |w ⊙ ∂L/∂w|, L the batch's mean loss, by a hand-written backward pass in double.</summary>
    private static double[][] ManagedTaylor(Mlp model, Dataset data, int batchSize) =>
        ManagedGradientSums(model, data, batchSize, (w, g) => Math.Abs(w * g));

    public static IEnumerable<object[]> TaylorCases() => new[]
    {
        new object[] { new[] { 3, 4, 3 }, Activation.Tanh, 3 },
        new object[] { new[] { 3, 4, 3 }, Activation.Tanh, 7 },
        new object[] { new[] { 3, 2, 2, 3 }, Activation.Sigmoid, 2 },
        new object[] { new[] { 2, 3, 1 }, Activation.ReLU, 2 },
        new object[] { new[] { 2, 2, 1 }, Activation.Tanh, 4 },
    };

    [Theory]
    [MemberData(nameof(TaylorCases))]
    public void TaylorScoresEqualWeightTimesGradientByHand(int[] widths, Activation activation, int batchSize)
    {
        var data = widths[^1] == 1 ? TinyRegression() : TinyClassification();
        Assert.Equal(widths[^1] == 1 ? 5 : 7, data.TrainCount);
        Assert.Equal(0, data.TestCount);
        var model = Mlp.Create(widths, activation, seed: 81);
        // Known weights: small multiples of 1/16 with mixed signs; known biases.
        for (int l = 0; l < model.LayerCount; l++)
        {
            int count = widths[l] * widths[l + 1];
            TestKit.SetWeight(model, l, Enumerable.Range(0, count).Select(k => (((k * 7 + l * 3) % 11) - 5) / 16f + (k % 2 == 0 ? 0.03125f : -0.015625f)).ToArray());
            TestKit.SetBias(model, l, Enumerable.Range(0, widths[l + 1]).Select(k => (k % 3 - 1) * 0.125f + 0.0625f).ToArray());
        }
        var expected = ManagedTaylor(model, data, batchSize);
        using var taylor = (GradientCriterion)ImportanceCriterion.Create(PruneCriterion.Taylor, 0);
        taylor.ObserveData(model, data, batchSize);
        var got = Enumerable.Range(0, model.LayerCount).Select(l => taylor.ConnectionScores(model, l)).ToList();
        try
        {
            for (int l = 0; l < model.LayerCount; l++)
            {
                var g = TestKit.Floats(got[l]);
                Assert.Equal(expected[l].Length, g.Length);
                double scale = expected[l].Max();
                Assert.True(scale > 0, $"layer {l}: all scores zero, the test would prove nothing");
                for (int k = 0; k < g.Length; k++)
                    Assert.True(Math.Abs(g[k] - expected[l][k]) <= 1e-5 * Math.Abs(expected[l][k]) + 1e-6 * scale,
                        $"layer {l} weight {k}: Taylor {g[k]:R}, by hand {expected[l][k]:R}");
                // A neuron's Taylor score sums its row.
                if (l + 1 < model.LayerCount)
                {
                    var neurons = taylor.NeuronScores(model, l);
                    int cols = widths[l];
                    for (int i = 0; i < widths[l + 1]; i++)
                    {
                        double row = Enumerable.Range(0, cols).Sum(j => expected[l][i * cols + j]);
                        Assert.True(Math.Abs(neurons[i] - row) <= 1e-5 * row + 1e-6 * scale, $"layer {l} neuron {i}: {neurons[i]:R}, row sum {row:R}");
                    }
                }
            }
        }
        finally
        {
            foreach (var t in got) t.Dispose();
        }
    }
}
