using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Invoke-Pruning: connection, N:M and neuron pruning against managed brute-force
/// selections; ratios as absolute targets against the baseline; masked weights first;
/// shapes shrinking; output neurons kept; function preserved when dead neurons go.
/// </summary>
public class PrunerTests
{
    private static readonly int[] Widths = { 12, 10, 7, 4 };

    private static float[][] AllWeights(Mlp model) => Enumerable.Range(0, model.LayerCount).Select(i => TestKit.W(model, i)).ToArray();

    private static HashSet<int> DeletedSet(Mlp model, int layer)
    {
        var d = TestKit.Bools(model.State[layer].Deleted);
        return Enumerable.Range(0, d.Length).Where(k => d[k]).ToHashSet();
    }

    /// <summary>Weights k/64 with small integers k: every row sum and sum of squares is exact in float32.</summary>
    private static void DyadicWeights(Mlp model, int seed)
    {
        var rng = new Random(seed);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var n = (int)model.State[l].DenseWeights;
            TestKit.SetWeight(model, l, Enumerable.Range(0, n).Select(_ => rng.Next(-40, 41) / 64f).ToArray());
        }
    }

    private static float[] Sub(float[,] w, int[] rows, int[] cols)
    {
        var r = new float[rows.Length * cols.Length];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < cols.Length; j++) r[i * cols.Length + j] = w[rows[i], cols[j]];
        return r;
    }

    private static double RowNorm(float[,] w, int row, PruneCriterion c)
    {
        double s = 0;
        for (int j = 0; j < w.GetLength(1); j++) s += c == PruneCriterion.L2 ? (double)w[row, j] * w[row, j] : Math.Abs(w[row, j]);
        return c == PruneCriterion.L2 ? Math.Sqrt(s) : s;
    }

    // ---- connections ----------------------------------------------------------------------

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.29)]
    [InlineData(0.75)]
    public void ConnectionLayerScopeDeletesTheLowestMagnitudes(double r)
    {
        var model = Mlp.Create(Widths, seed: 31);
        var before = AllWeights(model);
        var plan = TestKit.Prune(model, r);
        Assert.Equal(before.Sum(w => Ranking.FloorCount(r, w.Length)), plan.Deleting);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var expected = TestKit.LowestK(TestKit.Abs(before[i]), Ranking.FloorCount(r, before[i].Length));
            Assert.Equal(expected.OrderBy(x => x), DeletedSet(model, i).OrderBy(x => x));
            Assert.Equal(expected.OrderBy(x => x), TestKit.ZeroSet(TestKit.W(model, i)).OrderBy(x => x));
            Assert.Equal(LayerStorage.Sparse, model.Layers[i].Stored);
            Assert.Equal(before[i].Length - Ranking.FloorCount(r, before[i].Length), model.Layers[i].Weights);
        }
    }

    [Fact]
    public void ConnectionGlobalScopeRanksAllLayersTogether()
    {
        var model = Mlp.Create(Widths, seed: 32);
        var before = AllWeights(model);
        var flat = before.SelectMany(TestKit.Abs).ToArray();
        var expected = TestKit.LowestK(flat, Ranking.FloorCount(0.6, flat.Length));
        TestKit.Prune(model, 0.6, scope: PruneScope.Global);
        var deleted = new HashSet<int>();
        int offset = 0;
        for (int i = 0; i < model.LayerCount; i++)
        {
            foreach (var k in DeletedSet(model, i)) deleted.Add(offset + k);
            offset += before[i].Length;
        }
        Assert.Equal(expected.OrderBy(x => x), deleted.OrderBy(x => x));
        Assert.Equal(flat.Length - expected.Count, model.Weights);
    }

    [Fact]
    public void ConnectionTiesBreakByIndex()
    {
        var model = Mlp.Create(new[] { 5, 4, 2 }, seed: 33);
        TestKit.SetWeight(model, 0, Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? 0.5f : -0.5f).ToArray());
        TestKit.Prune(model, 0.45); // floor(0.45 × 20) = 9 of 20 equal magnitudes
        Assert.Equal(Enumerable.Range(0, 9), DeletedSet(model, 0).OrderBy(x => x));
    }

    [Fact]
    public void SameRatioTwiceDeletesNothingAndSaysTargetMet()
    {
        var model = Mlp.Create(Widths, seed: 34);
        TestKit.Prune(model, 0.3);
        var after1 = TestKit.Snap(model);
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.3 });
        Assert.True(plan.TargetMet);
        Assert.Equal(0, plan.Deleting);
        Pruner.Apply(model, plan, null);
        var after2 = TestKit.Snap(model);
        for (int i = 0; i < model.LayerCount; i++)
        {
            TestKit.BitEqual(after1.Layers[i].Weight, after2.Layers[i].Weight);
            Assert.Equal(after1.Layers[i].Deleted, after2.Layers[i].Deleted);
        }
        Assert.Contains("target", model.History[^1].Note ?? "", StringComparison.OrdinalIgnoreCase);

        using var lower = Pruner.Plan(model, new PruningRequest { Ratio = 0.1 });
        Assert.True(lower.TargetMet);
    }

    [Theory]
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void SecondRatioCountsEarlierDeletionsAgainstTheBaseline(PruneScope scope)
    {
        var model = Mlp.Create(Widths, seed: 35);
        var before = AllWeights(model);
        long total = before.Sum(w => (long)w.Length);
        TestKit.Prune(model, 0.3, scope: scope);
        var first = Enumerable.Range(0, model.LayerCount).Select(i => DeletedSet(model, i)).ToArray();
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5, Scope = scope });
        long expectedNow = scope == PruneScope.Global
            ? Ranking.FloorCount(0.5, total) - Ranking.FloorCount(0.3, total)
            : before.Sum(w => Ranking.FloorCount(0.5, w.Length) - Ranking.FloorCount(0.3, w.Length));
        Assert.Equal(expectedNow, plan.Deleting);
        Pruner.Apply(model, plan, null);

        long deletedTotal = 0;
        for (int i = 0; i < model.LayerCount; i++)
        {
            var now = DeletedSet(model, i);
            Assert.True(first[i].IsSubsetOf(now), $"layer {i}: a deletion of the first step was undone");
            deletedTotal += now.Count;
            if (scope == PruneScope.Layer)
            {
                Assert.Equal(Ranking.FloorCount(0.5, before[i].Length), now.Count);
                Assert.Equal(TestKit.LowestK(TestKit.Abs(before[i]), now.Count).OrderBy(x => x), now.OrderBy(x => x));
            }
        }
        Assert.Equal(scope == PruneScope.Global ? Ranking.FloorCount(0.5, total) : before.Sum(w => Ranking.FloorCount(0.5, w.Length)), deletedTotal);
        Assert.Equal(total - deletedTotal, model.Weights);
    }

    [Fact]
    public void MaskedWeightsArePrunedFirstAndDeletedOnesAreNotRestored()
    {
        var model = Mlp.Create(new[] { 10, 10, 3 }, seed: 36);
        var original = AllWeights(model);
        // A random mask, so that the masked weights are not simply the smallest magnitudes.
        TestKit.Sparsify(model, 0.4, method: PruneCriterion.Random, seed: 5);
        var masked = Enumerable.Range(0, model.LayerCount).Select(i => TestKit.ZeroSet(TestKit.W(model, i))).ToArray();
        TestKit.Prune(model, 0.3);
        for (int i = 0; i < model.LayerCount; i++)
        {
            long k = Ranking.FloorCount(0.3, original[i].Length);
            // Zeros rank lowest, ties by index: the first k masked positions.
            var expected = masked[i].OrderBy(x => x).Take((int)k);
            Assert.Equal(expected, DeletedSet(model, i).OrderBy(x => x));
        }
        // Set-Sparsity 0 brings back the masked weights that were not deleted, and only those.
        TestKit.Sparsify(model, 0);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var deleted = DeletedSet(model, i);
            var w = TestKit.W(model, i);
            for (int k = 0; k < w.Length; k++)
            {
                if (deleted.Contains(k)) Assert.Equal(0f, w[k]);
                else Assert.Equal(BitConverter.SingleToInt32Bits(original[i][k]), BitConverter.SingleToInt32Bits(w[k]));
            }
        }
    }

    [Fact]
    public void NMKeepsTwoOfEveryFourConsecutiveWeightsOfARow()
    {
        var model = Mlp.Create(new[] { 10, 6, 3 }, seed: 37); // rows of 10: groups of 4, 4 and 2
        var before = AllWeights(model);
        var plan = Pruner.Plan(model, new PruningRequest { Structure = PruneStructure.NM, KeepN = 2, GroupM = 4 });
        Pruner.Apply(model, plan, null);
        for (int l = 0; l < model.LayerCount; l++)
        {
            int cols = model.State[l].InFeatures, rows = model.State[l].OutFeatures;
            var expected = new HashSet<int>();
            for (int r = 0; r < rows; r++)
                for (int g = 0; g < cols; g += 4)
                {
                    int size = Math.Min(4, cols - g);
                    var idx = Enumerable.Range(r * cols + g, size).OrderBy(k => Math.Abs(before[l][k])).ThenBy(k => k);
                    foreach (var k in idx.Take(Math.Max(0, size - 2))) expected.Add(k);
                }
            Assert.Equal(expected.OrderBy(x => x), DeletedSet(model, l).OrderBy(x => x));
        }
    }

    // ---- neurons ------------------------------------------------------------------------

    [Theory]
    [InlineData(PruneCriterion.L1)]
    [InlineData(PruneCriterion.L2)]
    public void NeuronLayerScopeRemovesRowsAndNextColumns(PruneCriterion criterion)
    {
        var model = Mlp.Create(new[] { 8, 6, 5, 3 }, seed: 38);
        DyadicWeights(model, 38);
        var w = Enumerable.Range(0, 3).Select(model.GetWeight).ToArray();
        var b = Enumerable.Range(0, 3).Select(model.GetBias).ToArray();
        // Managed selection: floor(0.5 × neurons) rows with the lowest norm, ties by index.
        int[] Keep(int l, int count)
        {
            var rows = Enumerable.Range(0, w[l].GetLength(0));
            var remove = rows.OrderBy(r => RowNorm(w[l], r, criterion)).ThenBy(r => r).Take(count).ToHashSet();
            return rows.Where(r => !remove.Contains(r)).ToArray();
        }
        var keep0 = Keep(0, 3);
        var keep1 = Keep(1, 2);
        var plan = TestKit.Prune(model, 0.5, PruneStructure.Neuron, criterion: criterion);
        Assert.Equal(5, plan.NeuronsRemoving);

        Assert.Equal(new[] { 8, 3, 3, 3 }, model.Widths);
        var all8 = Enumerable.Range(0, 8).ToArray();
        var all3 = Enumerable.Range(0, 3).ToArray();
        TestKit.BitEqual(Sub(w[0], keep0, all8), TestKit.W(model, 0), "layer 0");
        TestKit.BitEqual(keep0.Select(r => b[0][r]).ToArray(), model.GetBias(0), "bias 0");
        TestKit.BitEqual(Sub(w[1], keep1, keep0), TestKit.W(model, 1), "layer 1");
        TestKit.BitEqual(keep1.Select(r => b[1][r]).ToArray(), model.GetBias(1), "bias 1");
        TestKit.BitEqual(Sub(w[2], all3, keep1), TestKit.W(model, 2), "layer 2");
        TestKit.BitEqual(b[2], model.GetBias(2), "bias 2 (no constant neuron to fold)");
        Assert.Equal(8 * 3 + 3 * 3 + 3 * 3, model.Weights);
        Assert.Equal(6 + 5, model.Baseline!.HiddenNeurons);
    }

    [Fact]
    public void L1AndL2RankNeuronsDifferently()
    {
        // Row 0: [1,1,1,1]: L1 4, L2 2.  Row 1: [3,0,0,0]: L1 3, L2 3.  Row 2: large.
        float[] rows = { 1, 1, 1, 1, 3, 0, 0, 0, 5, 5, 5, 5 };
        foreach (var (criterion, survivor) in new[] { (PruneCriterion.L1, 0), (PruneCriterion.L2, 1) })
        {
            var model = Mlp.Create(new[] { 4, 3, 2 }, seed: 39);
            TestKit.SetWeight(model, 0, rows);
            var removedNeighbour = criterion == PruneCriterion.L1 ? 1 : 0;
            Assert.True(RowNorm(model.GetWeight(0), removedNeighbour, criterion) < RowNorm(model.GetWeight(0), survivor, criterion));
            TestKit.Prune(model, 0.34, PruneStructure.Neuron, criterion: criterion); // floor(1.02) = 1 neuron
            Assert.Equal(2, model.Widths[1]);
            TestKit.BitEqual(rows.Skip(survivor * 4).Take(4).Concat(rows.Skip(8)).ToArray(), TestKit.W(model, 0), criterion.ToString());
        }
    }

    [Fact]
    public void NeuronGlobalScopeRanksAllHiddenNeuronsTogether()
    {
        var model = Mlp.Create(new[] { 8, 6, 5, 3 }, seed: 40);
        DyadicWeights(model, 40);
        var w = Enumerable.Range(0, 3).Select(model.GetWeight).ToArray();
        var candidates = Enumerable.Range(0, 2)
            .SelectMany(l => Enumerable.Range(0, w[l].GetLength(0)).Select(r => (Layer: l, Row: r, Score: RowNorm(w[l], r, PruneCriterion.L1))))
            .OrderBy(c => c.Score).ThenBy(c => c.Layer).ThenBy(c => c.Row).ToList();
        long target = Ranking.FloorCount(0.4, 11); // 4
        var left = new[] { 6, 5 };
        var removed = new[] { new HashSet<int>(), new HashSet<int>() };
        foreach (var c in candidates)
        {
            if (removed.Sum(s => s.Count) == target) break;
            if (left[c.Layer] <= 1) continue;
            removed[c.Layer].Add(c.Row);
            left[c.Layer]--;
        }
        TestKit.Prune(model, 0.4, PruneStructure.Neuron, PruneScope.Global);
        Assert.Equal(new[] { 8, left[0], left[1], 3 }, model.Widths);
        var keep0 = Enumerable.Range(0, 6).Where(r => !removed[0].Contains(r)).ToArray();
        var keep1 = Enumerable.Range(0, 5).Where(r => !removed[1].Contains(r)).ToArray();
        TestKit.BitEqual(Sub(w[0], keep0, Enumerable.Range(0, 8).ToArray()), TestKit.W(model, 0), "layer 0");
        TestKit.BitEqual(Sub(w[1], keep1, keep0), TestKit.W(model, 1), "layer 1");
        TestKit.BitEqual(Sub(w[2], Enumerable.Range(0, 3).ToArray(), keep1), TestKit.W(model, 2), "layer 2");
    }

    [Theory]
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void EveryLayerKeepsANeuronAndOutputsAreNeverPruned(PruneScope scope)
    {
        var model = Mlp.Create(new[] { 8, 6, 5, 3 }, seed: 41);
        // MaxLayerSparsity 1: no cap beyond the one-neuron floor (the default cap cannot reach 0.99 of 6 and 5 neurons).
        TestKit.Prune(model, 0.99, PruneStructure.Neuron, scope, maxLayerSparsity: 1);
        Assert.Equal(new[] { 8, 1, 1, 3 }, model.Widths);
        Assert.Equal(3, model.Outputs);
        Assert.Equal(8 + 1 + 3, model.Weights);
        // Nothing left to take: the same target again deletes nothing.
        using var again = Pruner.Plan(model, new PruningRequest { Ratio = 0.99, Structure = PruneStructure.Neuron, Scope = scope, MaxLayerSparsity = 1 });
        Assert.True(again.TargetMet);
        // The model still runs.
        var y = TestKit.Forward(model, TestKit.RandomRows(4, 8, 1), 4);
        Assert.Equal(12, y.Length);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void NeuronRatioCountsAgainstTheBaselineNeurons()
    {
        var model = Mlp.Create(new[] { 8, 20, 10, 3 }, seed: 42);
        TestKit.Prune(model, 0.25, PruneStructure.Neuron);
        Assert.Equal(new[] { 8, 15, 8, 3 }, model.Widths); // floor(5), floor(2.5)
        using (var same = Pruner.Plan(model, new PruningRequest { Ratio = 0.25, Structure = PruneStructure.Neuron }))
            Assert.True(same.TargetMet);
        TestKit.Prune(model, 0.5, PruneStructure.Neuron);
        Assert.Equal(new[] { 8, 10, 5, 3 }, model.Widths); // 20 − floor(10), 10 − floor(5)
    }

    [Fact]
    public void SingleLayerModelHasNoNeuronToPrune()
    {
        var model = Mlp.Create(new[] { 5, 3 }, seed: 43);
        var snap = TestKit.Snap(model);
        TestKit.Throws("NoHiddenNeurons", () => Pruner.Plan(model, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron }));
        TestKit.SameState(snap, model);
    }

    /// <summary>
    /// [6,5,4,3]: neurons 1 and 3 of layer 0 and neuron 2 of layer 1 get a zero incoming row
    /// and the given biases; Ratio 0.4 (Layer) then removes exactly those three (norm 0 ranks
    /// lowest): floor(0.4 × 5) = 2 and floor(0.4 × 4) = 1.
    /// </summary>
    private static (Mlp Model, float[] X, float[] Before) ModelWithConstantNeurons(Activation activation, float b01, float b03, float b12)
    {
        var model = Mlp.Create(new[] { 6, 5, 4, 3 }, activation, seed: 44);
        var w0 = TestKit.W(model, 0);
        var b0 = model.GetBias(0);
        foreach (var r in new[] { 1, 3 }) for (int j = 0; j < 6; j++) w0[r * 6 + j] = 0f;
        b0[1] = b01; b0[3] = b03;
        TestKit.SetWeight(model, 0, w0);
        TestKit.SetBias(model, 0, b0);
        var w1 = TestKit.W(model, 1);
        var b1 = model.GetBias(1);
        for (int j = 0; j < 5; j++) w1[2 * 5 + j] = 0f;
        b1[2] = b12;
        TestKit.SetWeight(model, 1, w1);
        TestKit.SetBias(model, 1, b1);
        var x = TestKit.RandomRows(64, 6, 7, 3.0);
        return (model, x, TestKit.Forward(model, x, 64));
    }

    [Fact]
    public void RemovingDeadNeuronsLeavesOutputsUnchanged()
    {
        var (model, x, before) = ModelWithConstantNeurons(Activation.ReLU, -0.4f, 0f, -0.2f);
        var w0 = model.GetWeight(0);
        var w1 = model.GetWeight(1);
        var w2 = model.GetWeight(2);
        var b2 = model.GetBias(2);
        TestKit.Prune(model, 0.4, PruneStructure.Neuron);
        Assert.Equal(new[] { 6, 3, 3, 3 }, model.Widths);
        int[] keep0 = { 0, 2, 4 }, keep1 = { 0, 1, 3 };
        TestKit.BitEqual(Sub(w0, keep0, Enumerable.Range(0, 6).ToArray()), TestKit.W(model, 0), "layer 0");
        TestKit.BitEqual(Sub(w1, keep1, keep0), TestKit.W(model, 1), "layer 1");
        TestKit.BitEqual(Sub(w2, new[] { 0, 1, 2 }, keep1), TestKit.W(model, 2), "layer 2");
        TestKit.BitEqual(b2, model.GetBias(2), "dead neurons add nothing to the next bias");
        AssertClose(before, TestKit.Forward(model, x, 64), 1e-6);
    }

    [Theory]
    [InlineData(nameof(Activation.ReLU), 0.7f, 0.3f, 0.5f)]
    [InlineData(nameof(Activation.ReLU), 0.7f, -0.3f, 0.5f)]
    [InlineData(nameof(Activation.Tanh), -0.6f, 0.3f, 0.8f)]
    [InlineData(nameof(Activation.Sigmoid), -0.6f, 0f, 0.8f)]
    [InlineData(nameof(Activation.GELU), 1.2f, 0.4f, -0.5f)]
    [InlineData(nameof(Activation.LeakyReLU), -0.6f, 0.3f, 0.8f)]
    public void ConstantNeuronsAreFoldedIntoTheNextBias(string activationName, float b01, float b03, float b12)
    {
        var activation = Activation.Parse(activationName);
        var (model, x, before) = ModelWithConstantNeurons(activation, b01, b03, b12);
        var w1 = model.GetWeight(1);
        var b1 = model.GetBias(1);
        var w2 = model.GetWeight(2);
        var b2 = model.GetBias(2);
        TestKit.Prune(model, 0.4, PruneStructure.Neuron);
        Assert.Equal(new[] { 6, 3, 3, 3 }, model.Widths);

        // Managed expectation of the folded biases (in double).
        double Act(double v) => activation == Activation.GELU
            ? 0.5 * v * (1 + Erf(v / Math.Sqrt(2)))
            : TestKit.Act(v, activation);
        int[] keep1 = { 0, 1, 3 };
        var expectedB1 = keep1.Select(k => b1[k] + Act(b01) * w1[k, 1] + Act(b03) * w1[k, 3]).ToArray();
        double c12 = Act(b12 + Act(b01) * w1[2, 1] + Act(b03) * w1[2, 3]); // row 2 is zero, so only its bias (and folded constants, which are 0 here)
        var expectedB2 = Enumerable.Range(0, 3).Select(k => b2[k] + c12 * w2[k, 2]).ToArray();
        var gotB1 = model.GetBias(1);
        var gotB2 = model.GetBias(2);
        for (int k = 0; k < 3; k++)
        {
            Assert.InRange(gotB1[k], expectedB1[k] - 1e-5, expectedB1[k] + 1e-5);
            Assert.InRange(gotB2[k], expectedB2[k] - 1e-5, expectedB2[k] + 1e-5);
        }
        AssertClose(before, TestKit.Forward(model, x, 64), 1e-5);
    }

    /// <summary>Abramowitz–Stegun 7.1.26 is too coarse here; use a series/continued fraction accurate to ~1e-12.</summary>
    private static double Erf(double x)
    {
        // erf via the Taylor series (|x| is small in these tests).
        double sum = 0, term = x;
        for (int n = 0; n < 60; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Fact]
    public void NeuronPruningKeepsMasksAndDeletionsAligned()
    {
        var model = Mlp.Create(new[] { 8, 6, 5, 3 }, seed: 45);
        DyadicWeights(model, 45);
        var original = Enumerable.Range(0, 3).Select(model.GetWeight).ToArray();
        TestKit.Prune(model, 0.2);                 // connections deleted in every layer
        var deleted = Enumerable.Range(0, 3).Select(l => TestKit.Bools(model.State[l].Deleted)).ToArray();
        TestKit.Sparsify(model, 0.3);              // plus a mask
        var w = Enumerable.Range(0, 3).Select(model.GetWeight).ToArray();
        var rows0 = Enumerable.Range(0, 6).OrderBy(r => RowNorm(w[0], r, PruneCriterion.L1)).ThenBy(r => r).Take(3).ToHashSet();
        var rows1 = Enumerable.Range(0, 5).OrderBy(r => RowNorm(w[1], r, PruneCriterion.L1)).ThenBy(r => r).Take(2).ToHashSet();
        var keep0 = Enumerable.Range(0, 6).Where(r => !rows0.Contains(r)).ToArray();
        var keep1 = Enumerable.Range(0, 5).Where(r => !rows1.Contains(r)).ToArray();
        TestKit.Prune(model, 0.5, PruneStructure.Neuron);
        Assert.Equal(new[] { 8, 3, 3, 3 }, model.Widths);

        // Deleted flags follow their weights.
        var all8 = Enumerable.Range(0, 8).ToArray();
        var all3 = Enumerable.Range(0, 3).ToArray();
        bool[] SubB(bool[] d, int cols, int[] r, int[] c) => r.SelectMany(i => c.Select(j => d[i * cols + j])).ToArray();
        Assert.Equal(SubB(deleted[0], 8, keep0, all8), PadBools(TestKit.Bools(model.State[0].Deleted), 24));
        Assert.Equal(SubB(deleted[1], 6, keep1, keep0), PadBools(TestKit.Bools(model.State[1].Deleted), 9));
        Assert.Equal(SubB(deleted[2], 5, all3, keep1), PadBools(TestKit.Bools(model.State[2].Deleted), 9));

        // Set-Sparsity 0 brings back the masked values of the surviving weights exactly.
        TestKit.Sparsify(model, 0);
        var expected = new[] { Sub(original[0], keep0, all8), Sub(original[1], keep1, keep0), Sub(original[2], all3, keep1) };
        var expectedDeleted = new[] { SubB(deleted[0], 8, keep0, all8), SubB(deleted[1], 6, keep1, keep0), SubB(deleted[2], 5, all3, keep1) };
        for (int l = 0; l < 3; l++)
        {
            var now = TestKit.W(model, l);
            for (int k = 0; k < now.Length; k++)
                Assert.Equal(expectedDeleted[l][k] ? 0f : expected[l][k], now[k]);
        }
    }

    private static bool[] PadBools(bool[] d, int n) => d.Length == 0 ? new bool[n] : d;

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance, $"outputs changed by up to {worst:G3} (tolerance {tolerance:G3})");
    }
}
