using Xunit;
using static SparsePrune.Tests.PruningKit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>N:M pruning keeps the N largest magnitudes of every group of M consecutive weights.</summary>
public class NMStructureTests
{
    // ---- 4. N:M ---------------------------------------------------------------------------------

    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(3, 8)]
    public void NMKeepsNOfEveryGroupOfMConsecutiveWeights(int keepN, int groupM)
    {
        var widths = new[] { 16, 10, 7, 3 }; // rows of 16 (a multiple of 4 and 8), 10 and 7 (neither)
        var model = Mlp.Create(widths, seed: 77);
        var before = Enumerable.Range(0, model.LayerCount).Select(l => TestKit.W(model, l)).ToArray();
        Assert.All(before.SelectMany(w => w), v => Assert.True(v != 0f));
        using (var plan = Pruner.Plan(model, new PruningRequest { Structure = PruneStructure.NM, KeepN = keepN, GroupM = groupM }))
            Pruner.Apply(model, plan, null);

        long expectedWeights = 0;
        for (int l = 0; l < model.LayerCount; l++)
        {
            int rows = widths[l + 1], cols = widths[l];
            var w = TestKit.W(model, l);
            var d = DeletedFlags(model, l);
            for (int r = 0; r < rows; r++)
                for (int g = 0; g < cols; g += groupM)
                {
                    int len = Math.Min(groupM, cols - g);
                    int keep = Math.Min(len, keepN);
                    expectedWeights += keep;
                    var idx = Enumerable.Range(r * cols + g, len).ToArray();
                    Assert.True(idx.Count(k => w[k] != 0f) == keep, $"layer {l} row {r} group at {g}: {idx.Count(k => w[k] != 0f)} non-zeros, expected {keep}");
                    Assert.Equal(len - keep, idx.Count(k => d[k]));
                    // The kept ones are the group's largest magnitudes, unchanged.
                    var largest = idx.OrderByDescending(k => Math.Abs(before[l][k])).Take(keep).ToHashSet();
                    foreach (var k in idx)
                        if (largest.Contains(k)) Assert.Equal(before[l][k], w[k]);
                        else Assert.True(d[k] && w[k] == 0f);
                }
        }
        Assert.Equal(expectedWeights, model.Weights);
    }
}
