using Xunit;
using static SparsePrune.Tests.PruningKit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Global ranking under -MaxLayerSparsity: no layer passes the cap, connections or neurons, and
/// Ranking.LowestKCapped against a managed greedy selection.
/// </summary>
public class RankingTests
{
    // ---- 5. global scope and -MaxLayerSparsity --------------------------------------------------

    private static readonly int[] CapWidths = { 20, 16, 12, 4 }; // 320, 192, 48 weights

    /// <summary>A model whose first layer has tiny weights, so that global ranking wants all of it.</summary>
    private static Mlp CapModel()
    {
        var model = Mlp.Create(CapWidths, seed: 78);
        TestKit.SetWeight(model, 0, TestKit.W(model, 0).Select(v => v * 0.01f).ToArray());
        return model;
    }

    /// <summary>Managed greedy: all scores sorted with ties by (tensor, index); the lowest taken while their tensor has room.</summary>
    private static HashSet<int>[] GreedyCapped(IReadOnlyList<float[]> scores, long k, IReadOnlyList<long> room)
    {
        var chosen = scores.Select(_ => new HashSet<int>()).ToArray();
        var left = room.ToArray();
        var order = scores.SelectMany((s, t) => s.Select((v, i) => (T: t, I: i, V: v)))
            .OrderBy(c => c.V).ThenBy(c => c.T).ThenBy(c => c.I);
        foreach (var c in order)
        {
            if (k == 0) break;
            if (left[c.T] <= 0) continue;
            chosen[c.T].Add(c.I);
            left[c.T]--;
            k--;
        }
        Assert.Equal(0, k);
        return chosen;
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(4, 5)]
    [InlineData(49, 50)]
    public void GlobalScopeNeverPassesMaxLayerSparsity(int p, int q)
    {
        double cap = (double)p / q;
        var n = DenseCounts(CapWidths);
        long total = n.Sum();
        var caps = n.Select(c => TestKit.ExactFloor(p, q, c)).ToArray();
        long max = caps.Sum();
        foreach (long count in new[] { max, max - 1, max - 17 })
        {
            double ratio = (count + 0.5) / total;
            var model = CapModel();
            var before = Enumerable.Range(0, model.LayerCount).Select(l => TestKit.W(model, l)).ToArray();
            var expected = GreedyCapped(before.Select(TestKit.Abs).ToList(), count, caps);
            using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = ratio, Scope = PruneScope.Global, MaxLayerSparsity = cap }))
                Pruner.Apply(model, plan, null);
            long deleted = 0;
            for (int l = 0; l < n.Length; l++)
            {
                long d = Deleted(model, l);
                Assert.True(d <= caps[l], $"cap {cap}, ratio {ratio}: layer {l} lost {d} of {n[l]}, cap allows {caps[l]}");
                deleted += d;
                var flags = DeletedFlags(model, l);
                Assert.Equal(expected[l].OrderBy(x => x), Enumerable.Range(0, flags.Length).Where(k => flags[k]));
            }
            Assert.Equal(count, deleted);
            if (count == max) Assert.Equal(caps, Enumerable.Range(0, n.Length).Select(l => Deleted(model, l)).ToArray());
        }
        // Beyond what the caps allow: an error, and the model as it was.
        {
            double ratio = (max + 1.5) / total;
            var model = CapModel();
            var snap = TestKit.Snap(model);
            TestKit.Throws("MaxLayerSparsityTooLow", () => Pruner.Plan(model, new PruningRequest { Ratio = ratio, Scope = PruneScope.Global, MaxLayerSparsity = cap }));
            TestKit.SameState(snap, model);
            // In rounds, the first rounds fit and the last does not: the whole schedule is undone.
            TestKit.Throws("MaxLayerSparsityTooLow", () => PruningScheduler.Run(model,
                new PruningRequest { Ratio = ratio, Scope = PruneScope.Global, MaxLayerSparsity = cap },
                new ScheduleOptions { Schedule = PruneSchedule.Iterative, Steps = 3 }, null));
            TestKit.SameState(snap, model);
            Assert.Null(model.Baseline);
        }
    }

    [Fact]
    public void GlobalNeuronScopeNeverPassesMaxLayerSparsity()
    {
        var widths = new[] { 8, 20, 10, 3 };
        var caps = new[] { 10L, 5L }; // floor(0.5 × 20), floor(0.5 × 10)
        var model = Mlp.Create(widths, seed: 79);
        TestKit.SetWeight(model, 0, TestKit.W(model, 0).Select(v => v * 0.01f).ToArray()); // layer 0's neurons rank lowest
        var snap = TestKit.Snap(model);
        TestKit.Throws("MaxLayerSparsityTooLow", () => Pruner.Plan(model,
            new PruningRequest { Ratio = 16.5 / 30, Structure = PruneStructure.Neuron, Scope = PruneScope.Global, MaxLayerSparsity = 0.5 }));
        TestKit.SameState(snap, model);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 15.5 / 30, Structure = PruneStructure.Neuron, Scope = PruneScope.Global, MaxLayerSparsity = 0.5 }))
            Pruner.Apply(model, plan, null);
        Assert.Equal(new[] { 8, 20 - (int)caps[0], 10 - (int)caps[1], 3 }, model.Widths);
    }

    [Fact]
    public void LowestKCappedMatchesAManagedGreedySelection()
    {
        var rng = new Random(80);
        var shapes = new[] { new long[] { 3, 5 }, new long[] { 4, 4 }, new long[] { 2, 7 }, new long[] { 1, 1 }, new long[] { 6, 3 } };
        for (int trial = 0; trial < 60; trial++)
        {
            // Few distinct values: many ties, across and within tensors.
            int levels = trial % 3 == 0 ? 3 : 12;
            var values = shapes.Select(s => Enumerable.Range(0, (int)(s[0] * s[1])).Select(_ => rng.Next(levels) / 4f).ToArray()).ToList();
            var room = values.Select(v => (long)rng.Next(0, v.Length + 1)).ToList();
            long feasible = room.Zip(values, (r, v) => Math.Min(r, v.Length)).Sum();
            long k = rng.Next(0, (int)feasible + 1);
            var expected = GreedyCapped(values, k, room);
            using var scope = NewDisposeScope();
            var tensors = values.Select((v, i) => tensor(v, shapes[i])).ToList();
            var got = Ranking.LowestKCapped(tensors, k, room);
            Assert.Equal(values.Count, got.Count);
            for (int i = 0; i < values.Count; i++)
            {
                Assert.Equal(shapes[i], got[i].shape);
                var flags = TestKit.Floats(got[i].contiguous());
                var set = Enumerable.Range(0, flags.Length).Where(j => flags[j] == 1f).ToHashSet();
                Assert.All(flags, f => Assert.True(f == 0f || f == 1f));
                Assert.True(expected[i].SetEquals(set),
                    $"trial {trial}, tensor {i}, k {k}, room [{string.Join(",", room)}]: chose [{string.Join(",", set.OrderBy(x => x))}], expected [{string.Join(",", expected[i].OrderBy(x => x))}]");
            }
        }
    }
}
