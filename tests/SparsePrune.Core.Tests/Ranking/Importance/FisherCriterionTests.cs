using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// -Criterion Fisher: Optimal Brain Damage's ½·w²·Σ(∂L/∂w)², checked against a hand-written
/// backward pass in double, for connections and for neurons (the sum over the neuron's row and
/// the next layer's column); and that it plans like any other criterion.
/// </summary>
public class FisherCriterionTests
{
    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { new[] { 3, 4, 3 }, Activation.Tanh, 3 },
        new object[] { new[] { 3, 2, 2, 3 }, Activation.Sigmoid, 7 },
        new object[] { new[] { 2, 3, 1 }, Activation.ReLU, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FisherScoresEqualHalfWeightSquaredTimesSummedSquaredGradients(int[] widths, Activation activation, int batchSize)
    {
        var data = widths[^1] == 1 ? ManagedGradients.TinyRegression() : ManagedGradients.TinyClassification();
        var model = Mlp.Create(widths, activation, seed: 17);
        // Known weights of mixed signs and sizes, known biases: every gradient term is exercised.
        for (int l = 0; l < model.LayerCount; l++)
        {
            int count = widths[l] * widths[l + 1];
            TestKit.SetWeight(model, l, Enumerable.Range(0, count).Select(k => (((k * 5 + l * 7) % 13) - 6) / 8f + (k % 3 == 0 ? 0.0625f : -0.03125f)).ToArray());
            TestKit.SetBias(model, l, Enumerable.Range(0, widths[l + 1]).Select(k => (k % 2 == 0 ? 0.25f : -0.125f)).ToArray());
        }
        var squared = ManagedGradients.ManagedGradientSums(model, data, batchSize, (_, g) => g * g);
        var weights = Enumerable.Range(0, model.LayerCount).Select(l => TestKit.Floats(model.State[l].Weight)).ToArray();
        var expected = Enumerable.Range(0, model.LayerCount)
            .Select(l => weights[l].Select((w, k) => 0.5 * w * w * squared[l][k]).ToArray()).ToArray();

        using var fisher = (GradientCriterion)ImportanceCriterion.Create(PruneCriterion.Fisher, 0);
        Assert.IsType<FisherCriterion>(fisher);
        fisher.ObserveData(model, data, batchSize);
        for (int l = 0; l < model.LayerCount; l++)
        {
            using var scores = fisher.ConnectionScores(model, l);
            var got = TestKit.Floats(scores);
            double scale = expected[l].Max();
            Assert.True(scale > 0, $"layer {l}: all scores zero, the test would prove nothing");
            Assert.Equal(expected[l].Length, got.Length);
            for (int k = 0; k < got.Length; k++)
                Assert.True(Math.Abs(got[k] - expected[l][k]) <= 1e-5 * expected[l][k] + 1e-6 * scale,
                    $"layer {l} weight {k}: Fisher {got[k]:R}, by hand {expected[l][k]:R}");
        }
        // A hidden neuron: its incoming row plus its outgoing column in the next layer.
        for (int l = 0; l + 1 < model.LayerCount; l++)
        {
            var neurons = fisher.NeuronScores(model, l);
            int cols = widths[l], next = widths[l + 2], outs = widths[l + 1];
            Assert.Equal(outs, neurons.Length);
            for (int i = 0; i < outs; i++)
            {
                double row = Enumerable.Range(0, cols).Sum(j => expected[l][i * cols + j]);
                double column = Enumerable.Range(0, next).Sum(o => expected[l + 1][o * outs + i]);
                Assert.True(Math.Abs(neurons[i] - (row + column)) <= 1e-5 * (row + column) + 1e-9,
                    $"layer {l} neuron {i}: {neurons[i]:R}, row {row:R} + column {column:R}");
            }
        }
    }

    [Fact]
    public void FisherPrunesTheLowestSaliencyConnectionsAndNeurons()
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(new[] { data.Features, 12, 6, 1 }, seed: 3);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 1, Seed = 1 });

        // Connections: the plan deletes exactly the floor(0.5 N) lowest ½·w²·Σg² of each layer.
        var copy = model.Clone();
        using var fisher = (GradientCriterion)ImportanceCriterion.Create(PruneCriterion.Fisher, 0);
        fisher.ObserveData(copy, data, 256);
        var expected = Enumerable.Range(0, copy.LayerCount).Select(l =>
        {
            using var s = fisher.ConnectionScores(copy, l);
            var v = TestKit.Floats(s);
            return v.Select((x, k) => (x, k)).OrderBy(p => p.x).ThenBy(p => p.k).Take(v.Length / 2).Select(p => p.k).ToHashSet();
        }).ToList();
        using (var plan = Pruner.Plan(copy, new PruningRequest { Ratio = 0.5, Criterion = PruneCriterion.Fisher }, data))
            Pruner.Apply(copy, plan, data);
        for (int l = 0; l < copy.LayerCount; l++)
        {
            var deleted = TestKit.Bools(copy.State[l].Deleted);
            Assert.Equal(expected[l], Enumerable.Range(0, deleted.Length).Where(k => deleted[k]).ToHashSet());
        }
        Assert.Contains("Criterion=Fisher", copy.History[^1].Settings.ToString());

        // Neurons: the layer loses its floor(0.5 n) lowest-scoring groups, and needs data to score.
        var neurons = model.Clone();
        TestKit.Throws("NoDataset", () => Pruner.Plan(neurons, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron, Criterion = PruneCriterion.Fisher }));
        fisher.ObserveData(neurons, data, 256);
        var scores = fisher.NeuronScores(neurons, 0);
        var keep = scores.Select((s, i) => (s, i)).OrderBy(p => p.s).ThenBy(p => p.i).Skip(6).Select(p => p.i).OrderBy(i => i).ToArray();
        using (var plan = Pruner.Plan(neurons, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron, Criterion = PruneCriterion.Fisher, Layers = new[] { 0 } }, data))
            Pruner.Apply(neurons, plan, data);
        Assert.Equal(keep, neurons.OriginOf(0));
    }
}
