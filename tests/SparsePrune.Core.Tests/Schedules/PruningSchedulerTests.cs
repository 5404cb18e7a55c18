using Xunit;
using static SparsePrune.Tests.PruningKit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Pruning schedules: Zhu–Gupta gradual targets (formula and the updates a run really makes),
/// every schedule ending exactly at its target, and the schedules' errors leaving the model as it
/// was. Lottery tickets: <see cref="LotteryTicketTests"/>; N:M groups, the global cap and Taylor
/// scores, run through schedules here before: <see cref="NMStructureTests"/>,
/// <see cref="RankingTests"/>, <see cref="TaylorCriterionTests"/>.
/// </summary>
public class PruningSchedulerTests
{
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
