using Xunit;

namespace SparsePrune.Tests;

/// <summary>-Scope ERK: each layer keeps a share ∝ (in + out)/(in × out), scaled to the overall target.</summary>
public class ErkAllocationTests
{
    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { new[] { 784, 300, 100, 10 }, 0.95 },
        new object[] { new[] { 784, 300, 100, 10 }, 0.995 },
        new object[] { new[] { 64, 128, 64, 10 }, 0.9 },
        new object[] { new[] { 64, 128, 64, 10 }, 0.3 }, // low target: the small layer stays dense
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ErkKeepsSharesProportionalToTheShapeFactorAndReachesTheTarget(int[] widths, double ratio)
    {
        var shapes = Enumerable.Range(0, widths.Length - 1).Select(i => (widths[i], widths[i + 1])).ToList();
        var ratios = ErkAllocation.Erk(shapes, ratio);
        var n = shapes.Select(s => (double)s.Item1 * s.Item2).ToArray();
        var factor = shapes.Select(s => (double)(s.Item1 + s.Item2) / ((double)s.Item1 * s.Item2)).ToArray();

        // Together the layers delete the target share of all weights.
        double deleted = ratios.Select((r, i) => r * n[i]).Sum();
        Assert.Equal(ratio * n.Sum(), deleted, 6);
        // Layers that are pruned keep density / factor equal (one scale ε); dense layers would need ε·factor ≥ 1.
        var pruned = Enumerable.Range(0, ratios.Length).Where(i => ratios[i] > 0).ToArray();
        Assert.NotEmpty(pruned);
        double scale = (1 - ratios[pruned[0]]) / factor[pruned[0]];
        foreach (var i in pruned) Assert.Equal(scale, (1 - ratios[i]) / factor[i], 9);
        foreach (var i in Enumerable.Range(0, ratios.Length).Except(pruned)) Assert.True(scale * factor[i] >= 1 - 1e-12);
        // Smaller layers stay at least as dense as wider ones.
        for (int i = 0; i < ratios.Length; i++)
            for (int j = 0; j < ratios.Length; j++)
                if (factor[i] > factor[j]) Assert.True(ratios[i] <= ratios[j] + 1e-12);
    }

    [Fact]
    public void PruningWithErkDeletesFloorOfEachLayersShare()
    {
        var widths = new[] { 64, 128, 64, 10 };
        var model = Mlp.Create(widths, seed: 4);
        var expected = ErkAllocation.Erk(Enumerable.Range(0, 3).Select(i => (widths[i], widths[i + 1])).ToList(), 0.9);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.9, Scope = PruneScope.ERK }))
            Pruner.Apply(model, plan, null);
        for (int l = 0; l < 3; l++)
        {
            long n = (long)widths[l] * widths[l + 1];
            Assert.Equal(n - Ranking.FloorCount(expected[l], n), model.State[l].PresentWeights);
        }
        Assert.Contains("ERK", model.History[^1].Settings.ToString());
        Assert.Contains("ERK allocation", model.History[^1].Note);
    }

    [Fact]
    public void SetSparsityWithErkMasksFloorOfEachLayersShare()
    {
        var widths = new[] { 20, 30, 5 };
        var model = Mlp.Create(widths, seed: 6);
        var expected = ErkAllocation.Erk(new List<(int, int)> { (20, 30), (30, 5) }, 0.8);
        using (var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.8, Scope = PruneScope.ERK }))
            Sparsifier.Apply(model, plan, null);
        for (int l = 0; l < 2; l++)
        {
            long n = (long)widths[l] * widths[l + 1];
            Assert.Equal(n - Ranking.FloorCount(expected[l], n), model.State[l].NonZeroWeights);
        }
    }

    [Fact]
    public void ErkWithNeuronsIsRefused()
    {
        var model = Mlp.Create(new[] { 8, 6, 2 }, seed: 1);
        TestKit.Throws("ScopeNotApplicable", () => Pruner.Plan(model, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron, Scope = PruneScope.ERK }).Dispose());
        Assert.Equal(new[] { 8, 6, 2 }, model.Widths);
    }
}
