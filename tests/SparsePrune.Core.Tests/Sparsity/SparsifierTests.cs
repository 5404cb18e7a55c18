using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Set-Sparsity: the masked set equals a managed brute-force selection (stable sort by |w|,
/// ties to the lower flat index), counts are floor(s × N), targets are absolute, and
/// Sparsity 0 restores the weights bit for bit.
/// </summary>
public class SparsifierTests
{
    private static readonly int[] Widths = { 12, 10, 7, 4 };

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.29)]
    [InlineData(0.9)]
    [InlineData(0.01)]
    public void LayerScopeMasksTheLowestMagnitudesOfEachLayer(double s)
    {
        var model = Mlp.Create(Widths, seed: 21);
        var before = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        TestKit.Sparsify(model, s);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var expected = TestKit.LowestK(TestKit.Abs(before[i]), Ranking.FloorCount(s, before[i].Length));
            var after = TestKit.W(model, i);
            Assert.Equal(expected.OrderBy(x => x), TestKit.ZeroSet(after).OrderBy(x => x));
            for (int k = 0; k < after.Length; k++)
                if (!expected.Contains(k)) Assert.Equal(BitConverter.SingleToInt32Bits(before[i][k]), BitConverter.SingleToInt32Bits(after[k]));
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.73)]
    [InlineData(0.05)]
    public void GlobalScopeRanksAllLayersConcatenatedInLayerOrder(double s)
    {
        var model = Mlp.Create(Widths, seed: 22);
        var before = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        var flat = before.SelectMany(TestKit.Abs).ToArray();
        var expected = TestKit.LowestK(flat, Ranking.FloorCount(s, flat.Length));
        TestKit.Sparsify(model, s, PruneScope.Global);
        var after = Enumerable.Range(0, model.LayerCount).SelectMany(i => TestKit.W(model, i)).ToArray();
        Assert.Equal(expected.OrderBy(x => x), TestKit.ZeroSet(after).OrderBy(x => x));
        // Layers differ in scale (1/sqrt(fan-in)), so global and per-layer selections differ.
        var perLayer = Mlp.Create(Widths, seed: 22);
        TestKit.Sparsify(perLayer, s);
        Assert.NotEqual(TestKit.Bits(after), TestKit.Bits(Enumerable.Range(0, 3).SelectMany(i => TestKit.W(perLayer, i)).ToArray()));
    }

    [Fact]
    public void TiesBreakByLowerFlatIndexInLayerScope()
    {
        var model = Mlp.Create(new[] { 6, 5, 3 }, seed: 1);
        // Magnitudes from a small set, signs alternating, so |w| ties are everywhere (also between +x and -x).
        float[] levels = { 0.25f, 0.5f, 0.75f };
        for (int l = 0; l < 2; l++)
        {
            var n = (int)model.State[l].DenseWeights;
            TestKit.SetWeight(model, l, Enumerable.Range(0, n).Select(i => levels[(i * 7) % 3] * (i % 2 == 0 ? 1 : -1)).ToArray());
        }
        var before = Enumerable.Range(0, 2).Select(i => TestKit.W(model, i)).ToArray();
        TestKit.Sparsify(model, 0.5);
        for (int l = 0; l < 2; l++)
        {
            long k = Ranking.FloorCount(0.5, before[l].Length);
            var expected = TestKit.LowestK(TestKit.Abs(before[l]), k);
            // Sanity: the cut falls inside a run of ties, so the index order decides.
            var sortedAbs = TestKit.Abs(before[l]).OrderBy(v => v).ToArray();
            Assert.Equal(sortedAbs[k - 1], sortedAbs[k]);
            Assert.Equal(expected.OrderBy(x => x), TestKit.ZeroSet(TestKit.W(model, l)).OrderBy(x => x));
        }
    }

    [Fact]
    public void TiesBreakByLowerFlatIndexInGlobalScope()
    {
        var model = Mlp.Create(new[] { 4, 4, 4, 2 }, seed: 1);
        // Every weight of every layer has the same magnitude: only the index decides.
        for (int l = 0; l < 3; l++)
        {
            var n = (int)model.State[l].DenseWeights;
            TestKit.SetWeight(model, l, Enumerable.Range(0, n).Select(i => i % 3 == 0 ? -0.5f : 0.5f).ToArray());
        }
        var flat = Enumerable.Range(0, 3).SelectMany(l => TestKit.Abs(TestKit.W(model, l))).ToArray(); // 16 + 16 + 8 = 40
        TestKit.Sparsify(model, 0.55, PruneScope.Global); // floor(22) = 22: all of layer 0, 6 of layer 1
        var zeros = TestKit.ZeroSet(Enumerable.Range(0, 3).SelectMany(l => TestKit.W(model, l)).ToArray());
        Assert.Equal(TestKit.LowestK(flat, 22).OrderBy(x => x), zeros.OrderBy(x => x));
        Assert.Equal(Enumerable.Range(0, 22), zeros.OrderBy(x => x));
    }

    [Theory]
    [InlineData(29, 100, 10, 10)]  // 0.29 × 100 is 28.999… in binary floating point
    [InlineData(57, 100, 10, 10)]
    [InlineData(7, 10, 10, 1)]     // 0.7 × 10
    [InlineData(58, 100, 20, 5)]
    [InlineData(7, 100, 10, 10)]   // 0.07 × 100 is 7.000…1
    [InlineData(58, 100, 10, 5)]   // 0.58 × 50 is 28.999…6
    [InlineData(999, 1000, 10, 10)]
    [InlineData(1, 100, 9, 11)]    // floor(0.99) = 0
    public void ZeroCountIsExactlyFloorOfFractionTimesN(long p, long q, int inF, int outF)
    {
        double s = (double)p / q;
        long n = (long)inF * outF;
        long expected = TestKit.ExactFloor(p, q, n);
        Assert.Equal(expected, Ranking.FloorCount(s, n));

        var model = Mlp.Create(new[] { inF, outF }, seed: 3);
        TestKit.Sparsify(model, s);
        Assert.Equal(expected, TestKit.ZeroSet(TestKit.W(model, 0)).Count);
        Assert.Equal(n - expected, model.NonZeroWeights);
        Assert.Equal((double)expected / n, model.Sparsity, 12);
    }

    [Fact]
    public void FloorCountMatchesIntegerArithmeticForEveryPercentage()
    {
        foreach (long n in new long[] { 1, 7, 10, 30, 100, 1000, 4096, 12345, 1_000_003 })
        {
            for (long p = 0; p < 100; p++)
                Assert.Equal(TestKit.ExactFloor(p, 100, n), Ranking.FloorCount(p / 100.0, n));
            for (long p = 0; p < 1000; p += 7)
                Assert.Equal(TestKit.ExactFloor(p, 1000, n), Ranking.FloorCount(p / 1000.0, n));
        }
    }

    [Fact]
    public void SameTargetTwiceChangesNothing()
    {
        var model = Mlp.Create(Widths, seed: 4);
        TestKit.Sparsify(model, 0.5);
        var once = TestKit.Snap(model);
        using (var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5 }))
        {
            Assert.True(plan.ChangesNothing);
            Assert.All(plan.Changes, c => Assert.Equal(c.ZeroBefore, c.ZeroAfter));
            Sparsifier.Apply(model, plan, null);
        }
        var twice = TestKit.Snap(model);
        for (int i = 0; i < model.LayerCount; i++)
        {
            TestKit.BitEqual(once.Layers[i].Weight, twice.Layers[i].Weight);
            TestKit.BitEqual(once.Layers[i].MaskedValues!, twice.Layers[i].MaskedValues!);
        }
        for (int i = 0; i < model.LayerCount; i++)
            Assert.Equal(Ranking.FloorCount(0.5, model.State[i].DenseWeights), TestKit.ZeroSet(TestKit.W(model, i)).Count);
    }

    [Fact]
    public void LowerTargetRestoresWeightsAsIfAppliedDirectly()
    {
        var model = Mlp.Create(Widths, seed: 6);
        var direct = model.Clone();
        TestKit.Sparsify(model, 0.8);
        Assert.Equal(Enumerable.Range(0, 3).Sum(i => Ranking.FloorCount(0.8, model.State[i].DenseWeights)),
            Enumerable.Range(0, 3).Sum(i => TestKit.ZeroSet(TestKit.W(model, i)).Count));
        TestKit.Sparsify(model, 0.5);
        TestKit.Sparsify(direct, 0.5);
        for (int i = 0; i < model.LayerCount; i++)
            TestKit.BitEqual(TestKit.W(direct, i), TestKit.W(model, i), $"layer {i}");
    }

    [Theory]
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void SparsityZeroRestoresTheOriginalWeightsBitForBit(PruneScope scope)
    {
        var model = Mlp.Create(Widths, seed: 8);
        var original = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        TestKit.Sparsify(model, 0.7, scope);
        TestKit.Sparsify(model, 0.9, scope);
        Assert.True(model.Sparsity > 0.85);
        TestKit.Sparsify(model, 0, scope);
        for (int i = 0; i < model.LayerCount; i++)
        {
            TestKit.BitEqual(original[i], TestKit.W(model, i), $"layer {i}");
            Assert.Null(model.State[i].Keep);
            Assert.Null(model.State[i].MaskedValues);
        }
        Assert.Equal(0.0, model.Sparsity);
    }

    [Fact]
    public void HiddenValuesAreTheMaskedWeights()
    {
        var model = Mlp.Create(Widths, seed: 12);
        var original = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        TestKit.Sparsify(model, 0.4);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var keep = TestKit.Bools(model.State[i].Keep);
            var hidden = TestKit.Floats(model.State[i].MaskedValues);
            var w = TestKit.W(model, i);
            for (int k = 0; k < w.Length; k++)
            {
                if (!keep[k]) { Assert.Equal(0f, w[k]); Assert.Equal(original[i][k], hidden[k]); }
                else { Assert.Equal(original[i][k], w[k]); Assert.Equal(0f, hidden[k]); }
            }
        }
    }

    [Fact]
    public void LayerSubsetLeavesOtherLayersUntouched()
    {
        var model = Mlp.Create(Widths, seed: 13);
        var before = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        TestKit.Sparsify(model, 0.6, layers: new[] { 1 });
        TestKit.BitEqual(before[0], TestKit.W(model, 0));
        TestKit.BitEqual(before[2], TestKit.W(model, 2));
        Assert.Equal(TestKit.LowestK(TestKit.Abs(before[1]), Ranking.FloorCount(0.6, before[1].Length)).OrderBy(x => x),
            TestKit.ZeroSet(TestKit.W(model, 1)).OrderBy(x => x));
    }

    [Fact]
    public void ThresholdMasksMagnitudesBelowIt()
    {
        var model = Mlp.Create(Widths, seed: 14);
        var before = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();
        const double t = 0.15;
        using (var plan = Sparsifier.Plan(model, new SparsityRequest { Threshold = t }))
            Sparsifier.Apply(model, plan, null);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var expected = Enumerable.Range(0, before[i].Length).Where(k => Math.Abs(before[i][k]) < t).ToHashSet();
            Assert.Equal(expected.OrderBy(x => x), TestKit.ZeroSet(TestKit.W(model, i)).OrderBy(x => x));
        }
    }

    [Fact]
    public void RandomMethodIsSeededAndHitsTheExactCount()
    {
        var a = Mlp.Create(Widths, seed: 15);
        var b = Mlp.Create(Widths, seed: 15);
        var c = Mlp.Create(Widths, seed: 15);
        TestKit.Sparsify(a, 0.37, method: PruneCriterion.Random, seed: 1);
        TestKit.Sparsify(b, 0.37, method: PruneCriterion.Random, seed: 1);
        TestKit.Sparsify(c, 0.37, method: PruneCriterion.Random, seed: 2);
        for (int i = 0; i < a.LayerCount; i++)
        {
            Assert.Equal(Ranking.FloorCount(0.37, a.State[i].DenseWeights), TestKit.ZeroSet(TestKit.W(a, i)).Count);
            Assert.Equal(TestKit.ZeroSet(TestKit.W(a, i)).OrderBy(x => x), TestKit.ZeroSet(TestKit.W(b, i)).OrderBy(x => x));
        }
        Assert.NotEqual(TestKit.ZeroSet(TestKit.W(a, 0)).OrderBy(x => x), TestKit.ZeroSet(TestKit.W(c, 0)).OrderBy(x => x));
    }

    [Fact]
    public void SparsityCountsOnlyWeightsStillPresentAfterPruning()
    {
        var model = Mlp.Create(Widths, seed: 16);
        TestKit.Prune(model, 0.3);
        var deleted = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.Bools(model.State[i].Deleted)).ToArray();
        long present = Enumerable.Range(0, model.LayerCount).Sum(i => deleted[i].Length - TestKit.CountTrue(deleted[i]));
        Assert.Equal(present, model.Weights);

        var underlying = Enumerable.Range(0, model.LayerCount).SelectMany(i => TestKit.W(model, i)).ToArray();
        var flatDeleted = deleted.SelectMany(d => d).ToArray();
        // Deleted connections are out of scope: rank them last.
        var scores = underlying.Select((v, k) => flatDeleted[k] ? float.PositiveInfinity : Math.Abs(v)).ToArray();
        var expectedMasked = TestKit.LowestK(scores, Ranking.FloorCount(0.5, present));

        TestKit.Sparsify(model, 0.5, PruneScope.Global);
        var after = Enumerable.Range(0, model.LayerCount).SelectMany(i => TestKit.W(model, i)).ToArray();
        var zeros = TestKit.ZeroSet(after);
        var masked = zeros.Where(k => !flatDeleted[k]).ToHashSet();
        Assert.Equal(expectedMasked.OrderBy(x => x), masked.OrderBy(x => x));
        Assert.Equal(Ranking.FloorCount(0.5, present), present - model.NonZeroWeights);
        Assert.Equal(present, model.Weights);
    }

    [Fact]
    public void SparsifyRecordsBaselineAndHistory()
    {
        var model = Mlp.Create(Widths, seed: 17);
        Assert.Null(model.Baseline);
        TestKit.Sparsify(model, 0.5);
        Assert.NotNull(model.Baseline);
        Assert.Equal(Widths, model.Baseline!.Widths);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => (long)Widths[i] * Widths[i + 1]), model.Baseline.LayerWeights);
        var first = model.Baseline;
        TestKit.Sparsify(model, 0.7);
        Assert.Same(first, model.Baseline);
        Assert.Equal(2, model.History.Count);
        Assert.Equal("Sparsify", model.History[1].Operation);
        Assert.Equal(2, model.History[1].Step);
        Assert.Equal(model.NonZeroWeights, model.History[1].NonZeroAfter);
    }
}
