using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Pruning schedules: Zhu–Gupta gradual targets (formula and the updates a run really makes),
/// every schedule ending exactly at its target, lottery tickets rewinding survivors bit for bit
/// (to initialization and to an epoch of the first training), N:M groups, the global
/// -MaxLayerSparsity cap against a managed greedy selection, Taylor scores against a
/// hand-written backward pass, and the schedules' errors leaving the model as it was.
/// </summary>
public class ScheduleTests
{
    private static readonly int[] RegWidths = { 10, 16, 12, 1 };

    /// <summary>floor(r × n) in decimal (r is written so that the product is never a hair below an integer).</summary>
    private static long Floor(double r, long n) => (long)Math.Floor((decimal)r * n);

    private static long[] DenseCounts(int[] widths) =>
        Enumerable.Range(0, widths.Length - 1).Select(i => (long)widths[i] * widths[i + 1]).ToArray();

    private static long Deleted(Mlp model, int layer) => model.State[layer].DeletedCount;

    private static bool[] DeletedFlags(Mlp model, int layer)
    {
        var d = TestKit.Bools(model.State[layer].Deleted);
        return d.Length == 0 ? new bool[model.State[layer].DenseWeights] : d;
    }

    private static TrainingOptions Quick(int? seed = 3) => new() { BatchSize = 64, LearningRate = 0.005, Seed = seed };

    // ---- 1. gradual targets -----------------------------------------------------------------

    [Theory]
    [InlineData(0.0, 0.9, 0L, 100L)]
    [InlineData(0.2, 0.75, 10L, 37L)]
    [InlineData(0.5, 0.5, 3L, 1L)]
    public void GradualTargetFollowsTheCubicFormulaThenHolds(double si, double sf, long t0, long ramp)
    {
        for (long t = t0; t <= t0 + ramp + 7; t++)
        {
            double expected;
            if (t >= t0 + ramp) expected = sf;
            else
            {
                double u = 1 - (double)(t - t0) / ramp;
                expected = sf + (si - sf) * (u * u * u);
            }
            double got = PruningScheduler.GradualTarget(si, sf, t, t0, ramp);
            Assert.True(Math.Abs(got - expected) <= 1e-12, $"t={t}: {got:R}, expected {expected:R}");
        }
        Assert.True(Math.Abs(si - PruningScheduler.GradualTarget(si, sf, t0, t0, ramp)) <= 1e-15);
        Assert.Equal(sf, PruningScheduler.GradualTarget(si, sf, t0 + ramp, t0, ramp));
        Assert.Equal(sf, PruningScheduler.GradualTarget(si, sf, t0 + ramp + 1000, t0, ramp));
    }

    /// <summary>What a finished schedule must have deleted, from the widths the model was created with.</summary>
    private static void AssertAtTarget(Mlp model, int[] widths, double ratio, PruneStructure structure, PruneScope scope)
    {
        if (structure == PruneStructure.Neuron)
        {
            var hidden = widths.Skip(1).Take(widths.Length - 2).ToArray();
            var now = model.Widths.Skip(1).Take(widths.Length - 2).ToArray();
            Assert.Equal(widths[0], model.Widths[0]);
            Assert.Equal(widths[^1], model.Widths[^1]);
            Assert.All(now, n => Assert.True(n >= 1));
            if (scope == PruneScope.Layer)
                for (int l = 0; l < hidden.Length; l++)
                    Assert.True(hidden[l] - now[l] == Floor(ratio, hidden[l]), $"hidden layer {l}: removed {hidden[l] - now[l]}, expected floor({ratio} × {hidden[l]})");
            else
                Assert.Equal(Floor(ratio, hidden.Sum()), hidden.Sum() - now.Sum());
            // Widths and weights agree (no connection deleted by neuron pruning).
            long dense = Enumerable.Range(0, model.LayerCount).Sum(l => (long)model.Widths[l] * model.Widths[l + 1]);
            Assert.Equal(dense, model.Weights);
        }
        else
        {
            Assert.Equal(widths, model.Widths);
            var n = DenseCounts(widths);
            if (scope == PruneScope.Layer)
                for (int l = 0; l < n.Length; l++)
                    Assert.True(Deleted(model, l) == Floor(ratio, n[l]), $"layer {l}: deleted {Deleted(model, l)}, expected floor({ratio} × {n[l]})");
            else
                Assert.Equal(Floor(ratio, n.Sum()), Enumerable.Range(0, n.Length).Sum(l => Deleted(model, l)));
            long deleted = Enumerable.Range(0, n.Length).Sum(l => Deleted(model, l));
            Assert.Equal(n.Sum() - deleted, model.Weights);
            // Every deleted weight reads 0.
            for (int l = 0; l < n.Length; l++)
            {
                var w = TestKit.W(model, l);
                var d = DeletedFlags(model, l);
                for (int k = 0; k < w.Length; k++) if (d[k]) Assert.True(w[k] == 0f, $"layer {l} deleted weight {k} reads {w[k]}");
            }
        }
    }

    /// <summary>
    /// Synthetic (800 training rows), batch 64: 13 optimizer steps an epoch. The targets recorded
    /// are the formula at every multiple of UpdateEvery up to the ramp's end, and at its end.
    /// </summary>
    [Theory]
    [InlineData(PruneStructure.Connection, PruneScope.Layer, PruneCriterion.L1, 0.0, 0.8, 3, 5, 0.7)]   // ramp 27: 5..25, 27
    [InlineData(PruneStructure.Connection, PruneScope.Global, PruneCriterion.L1, 0.2, 0.85, 2, 4, 0.5)] // ramp 13: 4, 8, 12, 13
    [InlineData(PruneStructure.Connection, PruneScope.Layer, PruneCriterion.Taylor, 0.0, 0.6, 2, 13, 0.5)] // ramp 13 = one update
    [InlineData(PruneStructure.Neuron, PruneScope.Layer, PruneCriterion.L2, 0.2, 0.6, 2, 3, 0.75)]     // ramp 19: 3..18, 19
    public void GradualRunPrunesToTheFormulaAtEveryUpdate(PruneStructure structure, PruneScope scope, PruneCriterion criterion,
        double pre, double ratio, int epochs, int updateEvery, double rampFraction)
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: 71);
        double initial = 0;
        if (pre > 0)
        {
            TestKit.Prune(model, pre, structure, scope);
            // Where the schedule starts: the fraction of the scope's baseline already deleted.
            if (structure == PruneStructure.Neuron)
            {
                var hidden = RegWidths.Skip(1).Take(RegWidths.Length - 2).ToArray();
                initial = (double)hidden.Sum(n => Floor(pre, n)) / hidden.Sum();
            }
            else
            {
                var n = DenseCounts(RegWidths);
                initial = scope == PruneScope.Global ? (double)Floor(pre, n.Sum()) / n.Sum() : (double)n.Sum(c => Floor(pre, c)) / n.Sum();
            }
        }
        var options = new ScheduleOptions
        {
            Schedule = PruneSchedule.Gradual, Epochs = epochs, UpdateEvery = updateEvery, RampFraction = rampFraction, Training = Quick(),
        };
        var result = PruningScheduler.Run(model, new PruningRequest { Ratio = ratio, Structure = structure, Scope = scope, Criterion = criterion }, options, data);

        int batches = (data.TrainCount + 63) / 64;
        long ramp = (long)Math.Floor(rampFraction * epochs * batches);
        var steps = new List<long>();
        for (long t = updateEvery; t <= ramp; t += updateEvery) steps.Add(t);
        if (steps.Count == 0 || steps[^1] != ramp) steps.Add(ramp);
        var expected = steps.Select(t =>
        {
            double u = 1 - (double)t / ramp;
            return ratio + (initial - ratio) * u * u * u;
        }).ToList();

        Assert.False(result.Stopped);
        Assert.Equal(expected.Count, result.Targets.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - result.Targets[i]) <= 1e-12, $"update {i} (step {steps[i]}): target {result.Targets[i]:R}, expected {expected[i]:R}");
        Assert.Equal(ratio, result.Targets[^1]);
        AssertAtTarget(model, RegWidths, ratio, structure, scope);
        Assert.Equal("GradualPrune", model.History[^1].Operation);
    }

    // ---- 2. every schedule ends exactly at its target -------------------------------------------

    public static IEnumerable<object[]> ScheduleCases()
    {
        foreach (var schedule in new[] { PruneSchedule.OneShot, PruneSchedule.Iterative, PruneSchedule.Gradual, PruneSchedule.LotteryTicket })
            foreach (var structure in new[] { PruneStructure.Connection, PruneStructure.Neuron })
                foreach (var scope in new[] { PruneScope.Layer, PruneScope.Global })
                    yield return new object[] { schedule, structure, scope };
    }

    [Theory]
    [MemberData(nameof(ScheduleCases))]
    public void EveryScheduleEndsExactlyAtItsTarget(PruneSchedule schedule, PruneStructure structure, PruneScope scope)
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: 72);
        Trainer.Train(model, data, Quick(4) with { Epochs = 1 });
        double ratio = structure == PruneStructure.Neuron ? 0.6 : 0.7;
        var options = new ScheduleOptions
        {
            Schedule = schedule, Steps = schedule == PruneSchedule.LotteryTicket ? 2 : 3,
            Epochs = 1, UpdateEvery = 4, RampFraction = 0.75, Training = Quick(),
        };
        var result = PruningScheduler.Run(model, new PruningRequest { Ratio = ratio, Structure = structure, Scope = scope }, options, data);
        Assert.False(result.Stopped);
        Assert.Equal(ratio, result.Targets[^1]);
        int expectedTargets = schedule switch
        {
            PruneSchedule.OneShot => 1,
            PruneSchedule.Iterative => 3,
            PruneSchedule.LotteryTicket => 2,
            _ => 3, // 13 steps, ramp floor(0.75 × 13) = 9: updates at 4, 8, 9
        };
        Assert.Equal(expectedTargets, result.Targets.Count);
        for (int i = 1; i < result.Targets.Count; i++) Assert.True(result.Targets[i] >= result.Targets[i - 1]);
        AssertAtTarget(model, RegWidths, ratio, structure, scope);
    }

    public static IEnumerable<object[]> LayerTargetCases()
    {
        foreach (var schedule in new[] { PruneSchedule.OneShot, PruneSchedule.Iterative, PruneSchedule.Gradual, PruneSchedule.LotteryTicket })
            foreach (var structure in new[] { PruneStructure.Connection, PruneStructure.Neuron })
                yield return new object[] { schedule, structure };
    }

    /// <summary>A target per layer (Layer scope) is met exactly, layer by layer, by every schedule.</summary>
    [Theory]
    [MemberData(nameof(LayerTargetCases))]
    public void EveryScheduleEndsExactlyAtEachLayersTarget(PruneSchedule schedule, PruneStructure structure)
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: 70);
        Trainer.Train(model, data, Quick(4) with { Epochs = 1 });
        double[] targets = structure == PruneStructure.Neuron ? new[] { 0.25, 0.75 } : new[] { 0.3, 0.85, 0.5 };
        var options = new ScheduleOptions { Schedule = schedule, Steps = 3, Epochs = 1, UpdateEvery = 4, RampFraction = 0.75, Training = Quick() };
        PruningScheduler.Run(model, new PruningRequest { Ratio = targets.Max(), LayerRatios = targets, Structure = structure }, options, data);
        if (structure == PruneStructure.Neuron)
            Assert.Equal(new[] { 10, 16 - (int)Floor(0.25, 16), 12 - (int)Floor(0.75, 12), 1 }, model.Widths);
        else
            for (int l = 0; l < 3; l++)
                Assert.True(Deleted(model, l) == Floor(targets[l], DenseCounts(RegWidths)[l]), $"layer {l}: deleted {Deleted(model, l)}, expected floor({targets[l]} × {DenseCounts(RegWidths)[l]})");
    }

    [Theory]
    [InlineData(0.0, 0.9, 3)]
    [InlineData(0.2, 0.95, 5)]
    [InlineData(0.1, 0.99, 10)]
    [InlineData(0.0, 0.3, 1)]
    [InlineData(0.5, 0.5, 4)]
    [InlineData(0.123456789, 0.876543211, 7)]
    public void RoundTargetsShrinkTheKeptFractionByAConstantFactor(double start, double target, int steps)
    {
        var t = PruningScheduler.RoundTargets(start, target, steps);
        Assert.Equal(steps, t.Length);
        Assert.Equal(target, t[^1]);
        Assert.True(t[0] >= start);
        for (int r = 1; r < steps; r++) Assert.True(t[r] >= t[r - 1], $"round {r + 1}: {t[r]} < {t[r - 1]}");
        // Kept fraction after round r: (1 − start) · q^r with q = ((1 − target)/(1 − start))^(1/steps).
        double keep0 = 1 - start, q = Math.Pow((1 - target) / keep0, 1.0 / steps);
        for (int r = 1; r <= steps; r++)
        {
            double keep = keep0 * Math.Pow(q, r);
            Assert.True(Math.Abs((1 - t[r - 1]) - keep) <= 1e-6 + 1e-12, $"round {r}: kept {1 - t[r - 1]:R}, expected {keep:R}");
        }
        // And the factor between consecutive rounds is the same (within the 1e-6 rounding).
        double prev = keep0;
        for (int r = 0; r < steps; r++)
        {
            double factor = (1 - t[r]) / prev;
            // Each kept fraction is off by at most 5e-7 (targets rounded to 1e-6), so the factor by (1 + q) · 5e-7 / prev.
            Assert.True(Math.Abs(factor - q) <= (1 + q) * 5e-7 / prev + 1e-12, $"round {r + 1}: factor {factor:R}, expected {q:R}");
            prev = 1 - t[r];
        }
    }

    // ---- 3. lottery tickets ---------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LotteryTicketRewindsConnectionSurvivorsToInitializationBitForBit(int steps)
    {
        const int seed = 73;
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, Quick(5) with { Epochs = 2, LearningRate = 0.01 });
        var fresh = Mlp.Create(RegWidths, seed: seed);
        Assert.NotEqual(TestKit.Bits(TestKit.W(fresh, 0)), TestKit.Bits(TestKit.W(model, 0))); // training moved the weights

        int historyBefore = model.History.Count;
        var result = PruningScheduler.Run(model, new PruningRequest { Ratio = 0.6 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = steps, FineTuneEpochs = 0 }, data);
        Assert.Equal(steps, result.Targets.Count);
        Assert.Equal(steps, model.History.Skip(historyBefore).Count(h => h.Operation == "Rewind"));

        var n = DenseCounts(RegWidths);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var f = TestKit.W(fresh, l);
            var d = DeletedFlags(model, l);
            Assert.Equal(Floor(0.6, n[l]), d.Count(x => x));
            for (int k = 0; k < w.Length; k++)
            {
                if (d[k]) Assert.True(w[k] == 0f, $"layer {l} deleted weight {k} reads {w[k]}");
                else Assert.True(BitConverter.SingleToInt32Bits(f[k]) == BitConverter.SingleToInt32Bits(w[k]),
                    $"layer {l} survivor {k} is {w[k]:R}, its initial value is {f[k]:R}");
            }
            TestKit.BitEqual(fresh.GetBias(l), model.GetBias(l), $"bias {l}");
        }
    }

    /// <summary>Indices of the <paramref name="count"/> rows with the lowest L1 norm (ties by index), in double.</summary>
    private static HashSet<int> LowestRows(float[,] w, int count) =>
        Enumerable.Range(0, w.GetLength(0))
            .OrderBy(r => Enumerable.Range(0, w.GetLength(1)).Sum(c => Math.Abs((double)w[r, c]))).ThenBy(r => r)
            .Take(count).ToHashSet();

    private static void AssertSurvivorsAtOrigins(Mlp model, Mlp fresh)
    {
        for (int l = 0; l < model.LayerCount; l++)
        {
            var rows = model.OriginOf(l);
            var cols = l == 0 ? Enumerable.Range(0, fresh.Widths[0]).ToArray() : model.OriginOf(l - 1);
            Assert.Equal(model.State[l].OutFeatures, rows.Length);
            Assert.Equal(model.State[l].InFeatures, cols.Length);
            for (int i = 1; i < rows.Length; i++) Assert.True(rows[i] > rows[i - 1], $"layer {l}: origins not increasing");
            var w = model.GetWeight(l);
            var f = fresh.GetWeight(l);
            var b = model.GetBias(l);
            var fb = fresh.GetBias(l);
            for (int i = 0; i < rows.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(fb[rows[i]]) == BitConverter.SingleToInt32Bits(b[i]), $"layer {l} bias {i} (origin {rows[i]})");
                for (int j = 0; j < cols.Length; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(f[rows[i], cols[j]]) == BitConverter.SingleToInt32Bits(w[i, j]),
                        $"layer {l} weight [{i},{j}] (origin [{rows[i]},{cols[j]}]) is {w[i, j]:R}, initial {f[rows[i], cols[j]]:R}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LotteryTicketAfterNeuronPruningRewindsSurvivorsAtTheirOriginalIndices(int steps)
    {
        const int seed = 74;
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, Quick(6) with { Epochs = 2, LearningRate = 0.01 });
        var trained = Enumerable.Range(0, model.LayerCount).Select(model.GetWeight).ToArray();
        var fresh = Mlp.Create(RegWidths, seed: seed);

        PruningScheduler.Run(model, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = steps }, data);
        Assert.Equal(new[] { 10, 8, 6, 1 }, model.Widths);
        if (steps == 1)
        {
            // One round ranks the trained rows: the survivors are the rows with the largest L1 norms.
            for (int l = 0; l < 2; l++)
            {
                var removed = LowestRows(trained[l], RegWidths[l + 1] / 2);
                Assert.Equal(Enumerable.Range(0, RegWidths[l + 1]).Where(r => !removed.Contains(r)), model.OriginOf(l));
            }
        }
        AssertSurvivorsAtOrigins(model, fresh);
    }

    /// <summary>
    /// A model whose neurons were removed before the lottery ticket (in this session, or read
    /// back from a file that keeps the origins): rewinding to initialization maps the initial
    /// values onto the present neurons by their original indices.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LotteryTicketOnANeuronPrunedModelRewindsAtOriginalIndices(bool readBack)
    {
        const int seed = 75;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, TestKit.Synthetic, Quick(7) with { Epochs = 1, LearningRate = 0.01 });
        TestKit.Prune(model, 0.5, PruneStructure.Neuron);
        var loaded = readBack ? SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model)) : model.Clone();
        Assert.Equal(new[] { 10, 8, 6, 1 }, loaded.Widths);
        PruningScheduler.Run(loaded, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 1 }, null);
        Assert.Equal(new[] { 10, 8, 6, 1 }, loaded.Widths);
        for (int l = 0; l < 2; l++) Assert.Equal(model.OriginOf(l), loaded.OriginOf(l));
        AssertSurvivorsAtOrigins(loaded, Mlp.Create(RegWidths, seed: seed));
    }

    [Fact]
    public void LotteryTicketRewindEpochOneMatchesAFreshModelTrainedOneEpoch()
    {
        const int seed = 76;
        var data = TestKit.Synthetic;
        var first = new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.01 }; // seed chosen by the model
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, first);
        Assert.NotNull(model.Attached<TrainingReplay>());
        int trainingSeed = model.Attached<TrainingReplay>()!.Options.Seed!.Value;

        var expected = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(expected, data, first with { Epochs = 1, Seed = trainingSeed });
        var init = Mlp.Create(RegWidths, seed: seed);

        PruningScheduler.Run(model, new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 2, RewindEpoch = 1 }, data);
        Assert.Equal("To=Epoch1", model.History[^1].Settings.ToString());

        bool differsFromInit = false;
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var e = TestKit.W(expected, l);
            var i0 = TestKit.W(init, l);
            var d = DeletedFlags(model, l);
            Assert.Equal(Floor(0.5, w.Length), d.Count(x => x));
            for (int k = 0; k < w.Length; k++)
            {
                if (d[k]) { Assert.True(w[k] == 0f); continue; }
                Assert.True(BitConverter.SingleToInt32Bits(e[k]) == BitConverter.SingleToInt32Bits(w[k]),
                    $"layer {l} survivor {k} is {w[k]:R}; after epoch 1 it was {e[k]:R}");
                differsFromInit |= w[k] != i0[k];
            }
            TestKit.BitEqual(expected.GetBias(l), model.GetBias(l), $"bias {l}");
        }
        Assert.True(differsFromInit, "the epoch-1 weights equal the initial ones: the test would not tell the rewind points apart");
    }

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

    // ---- 6. Taylor scores -----------------------------------------------------------------------

    private static double ActD(double z, Activation a) => TestKit.Act(z, a);

    private static double ActGrad(double z, Activation a) => a switch
    {
        _ when a == Activation.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
        _ when a == Activation.ReLU => z > 0 ? 1 : 0,
        _ when a == Activation.Sigmoid => 1 / (1 + Math.Exp(-z)) * (1 - 1 / (1 + Math.Exp(-z))),
        _ => throw new NotSupportedException(),
    };

    /// <summary>Σ over batches (in order) of |w ⊙ ∂L/∂w|, L the batch's mean loss, by a hand-written backward pass in double.</summary>
    private static double[][] ManagedTaylor(Mlp model, Dataset data, int batchSize) =>
        ManagedGradientSums(model, data, batchSize, (w, g) => Math.Abs(w * g));

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

    // ---- 9. errors ------------------------------------------------------------------------------

    private static Mlp TrainedModel(int seed)
    {
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, TestKit.Synthetic, Quick(8) with { Epochs = 1 });
        return model;
    }

    private static void ThrowsUnchanged(Mlp model, string errorId, PruningRequest request, ScheduleOptions options, Dataset? data)
    {
        var snap = TestKit.Snap(model);
        var first = model.Attached<TrainingReplay>();
        TestKit.Throws(errorId, () => PruningScheduler.Run(model, request, options, data));
        TestKit.SameState(snap, model);
        Assert.Same(first, model.Attached<TrainingReplay>());
    }

    [Theory]
    [InlineData(PruneSchedule.Iterative)]
    [InlineData(PruneSchedule.Gradual)]
    [InlineData(PruneSchedule.LotteryTicket)]
    public void NMWithAScheduleThatRaisesARatioIsRefused(PruneSchedule schedule)
    {
        var model = TrainedModel(82);
        ThrowsUnchanged(model, "ScheduleNeedsRatio", new PruningRequest { Structure = PruneStructure.NM },
            new ScheduleOptions { Schedule = schedule }, TestKit.Synthetic);
        // OneShot takes the pattern.
        PruningScheduler.Run(model, new PruningRequest { Structure = PruneStructure.NM }, new ScheduleOptions(), null);
        for (int l = 0; l < 3; l++)
        {
            int cols = RegWidths[l];
            long perRow = Enumerable.Range(0, (cols + 3) / 4).Sum(g => { int len = Math.Min(4, cols - 4 * g); return (long)(len - Math.Min(len, 2)); });
            Assert.Equal(perRow * RegWidths[l + 1], model.State[l].DeletedCount);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public void InvalidStepsIsRefused(int steps)
    {
        var model = TrainedModel(83);
        ThrowsUnchanged(model, "InvalidSteps", new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.Iterative, Steps = steps }, TestKit.Synthetic);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.25)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void InvalidRampFractionIsRefused(double fraction)
    {
        var model = TrainedModel(84);
        ThrowsUnchanged(model, "InvalidRampFraction", new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.Gradual, Epochs = 1, RampFraction = fraction }, TestKit.Synthetic);
    }

    [Fact]
    public void RewindEpochOfAModelReadFromBytesIsUnknown()
    {
        var trained = TrainedModel(85);
        Assert.NotNull(trained.Attached<TrainingReplay>());
        var model = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(trained));
        Assert.Null(model.Attached<TrainingReplay>());
        ThrowsUnchanged(model, "RewindPointUnknown", new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 2, RewindEpoch = 1 }, TestKit.Synthetic);
        // RewindEpoch 0 (initialization) still works: it is drawn again from the seed.
        PruningScheduler.Run(model, new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 1 }, null);
    }

    [Fact]
    public void RewindEpochOfAModelSparsifiedBeforeTrainingIsUnknown()
    {
        var model = Mlp.Create(RegWidths, seed: 86);
        TestKit.Sparsify(model, 0.3);
        Trainer.Train(model, TestKit.Synthetic, Quick(9) with { Epochs = 2 });
        Assert.Null(model.Attached<TrainingReplay>());
        ThrowsUnchanged(model, "RewindPointUnknown", new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 1, RewindEpoch = 1 }, TestKit.Synthetic);
    }

    [Fact]
    public void RewindEpochPastTheFirstTrainingIsRefused()
    {
        var model = TrainedModel(87); // one epoch
        ThrowsUnchanged(model, "InvalidRewindEpoch", new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 1, RewindEpoch = 2 }, TestKit.Synthetic);
    }

    [Theory]
    [InlineData(PruneSchedule.OneShot, PruneStructure.Connection)]
    [InlineData(PruneSchedule.Iterative, PruneStructure.Neuron)]
    [InlineData(PruneSchedule.LotteryTicket, PruneStructure.Connection)]
    public void TaylorWithoutDataIsRefused(PruneSchedule schedule, PruneStructure structure)
    {
        var model = TrainedModel(88);
        ThrowsUnchanged(model, "NoDataset", new PruningRequest { Ratio = 0.5, Structure = structure, Criterion = PruneCriterion.Taylor },
            new ScheduleOptions { Schedule = schedule }, null);
        var snap = TestKit.Snap(model);
        TestKit.Throws("NoDataset", () => Pruner.Plan(model, new PruningRequest { Ratio = 0.5, Structure = structure, Criterion = PruneCriterion.Taylor }));
        TestKit.SameState(snap, model);
    }
}
