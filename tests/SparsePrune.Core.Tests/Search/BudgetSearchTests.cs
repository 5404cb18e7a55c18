using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The accuracy budget (the chosen ratio is the largest probe within budget, probes judged by a
/// paired bound on the validation split, the model pruned exactly to the choice), and the warning
/// for a split too small. Measure-LayerSensitivity: <see cref="SensitivityAnalysisTests"/>; the
/// bound's arithmetic: <see cref="PairedBoundTests"/>.
/// </summary>
public class BudgetSearchTests
{
    private static long Floor(double r, long n) => (long)Math.Floor((decimal)r * n);

    // ---- 8. accuracy budget ---------------------------------------------------------------------

    /// <summary>The original pruned one-shot as a probe says: one global ratio, or each layer alone to its target.</summary>
    private static Mlp PrunedAs(Mlp original, PruningRequest request, BudgetProbe probe)
    {
        var copy = original.Clone();
        if (probe.LayerRatios is { } targets)
        {
            for (int l = 0; l < targets.Length; l++)
                using (var plan = Pruner.Plan(copy, new PruningRequest { Ratio = targets[l], Structure = request.Structure, Criterion = request.Criterion, Layers = new[] { l } }))
                    Pruner.Apply(copy, plan, null);
        }
        else
        {
            using var plan = Pruner.Plan(copy, request with { Ratio = probe.Ratio });
            Pruner.Apply(copy, plan, null);
        }
        return copy;
    }

    private static void AssertBudgetResult(Mlp original, Mlp model, Dataset data, BudgetResult result, PruningRequest request, double limit, int validationSeed,
        double confidence = 0.95, double validationFraction = 0.5)
    {
        var validation = data.SplitValidation(validationFraction, validationSeed);
        bool accuracy = data.Task == TaskKind.Classification;
        var baseline = Evaluator.Evaluate(original, validation).Value;
        Assert.Equal(baseline, result.BaselineMetric);
        Assert.Equal(accuracy ? "Accuracy" : "Loss", result.MetricName);
        Assert.NotEmpty(result.Probes);
        bool perLayer = request.Scope == PruneScope.Layer;
        Assert.All(result.Probes, p => Assert.Equal(perLayer, p.LayerRatios is not null));
        Assert.Equal(validation.TestCount, result.ValidationRows);
        Assert.Equal(confidence, result.Confidence);
        var referenceRows = RowScores.Of(original, validation);

        // Every probe: its metric is that of the model pruned one-shot as it says, judged on
        // validation, and it is within budget when the paired bound over the same rows is.
        foreach (var probe in result.Probes)
        {
            var pruned = PrunedAs(original, request, probe);
            double metric = Evaluator.Evaluate(pruned, validation).Value;
            Assert.Equal(metric, probe.Metric);
            double cost = accuracy ? baseline - metric : (metric - baseline) / baseline;
            Assert.Equal(cost, probe.Cost, 12);
            var rows = RowScores.Of(pruned, validation);
            var evidence = accuracy ? PairedBound.Accuracy(referenceRows, rows, confidence) : PairedBound.Loss(referenceRows, rows, confidence);
            Assert.Equal(cost + evidence.Width, probe.Bound, 12);
            Assert.Equal(evidence.Estimate, probe.Cost, 9);
            Assert.Equal(evidence.Lost, probe.Lost);
            Assert.Equal(evidence.Gained, probe.Gained);
            if (confidence == 0.5) Assert.Equal(probe.Cost, probe.Bound);
            else Assert.True(probe.Bound >= probe.Cost, $"a bound at {confidence} lies at or above the estimate");
            Assert.Equal(probe.Bound <= limit, probe.WithinBudget);
        }

        // The choice: the most pruning among the probes within budget.
        var within = result.Probes.Where(p => p.WithinBudget).ToList();
        if (within.Count == 0)
        {
            // Nothing fits: nothing is pruned, and the history says so.
            Assert.Equal(0, result.ChosenRatio);
            Assert.Null(result.ChosenLayerRatios);
            for (int l = 0; l < model.LayerCount; l++)
            {
                TestKit.BitEqual(TestKit.W(original, l), TestKit.W(model, l), $"layer {l}");
                Assert.Null(model.State[l].Deleted);
            }
            Assert.Equal("PruneBudget", model.History[^1].Operation);
            Assert.Contains("nothing more", model.History[^1].Note ?? "");
            return;
        }
        BudgetProbe chosen;
        if (perLayer)
        {
            // Allocations grow with the tolerance: the chosen one holds every other within-budget one layer by layer.
            chosen = within.Single(p => p.LayerRatios!.SequenceEqual(result.ChosenLayerRatios!));
            foreach (var p in within)
                for (int l = 0; l < p.LayerRatios!.Length; l++) Assert.True(p.LayerRatios[l] <= chosen.LayerRatios![l]);
            foreach (var p in result.Probes.Where(p => !p.WithinBudget))
                Assert.Contains(Enumerable.Range(0, p.LayerRatios!.Length), l => p.LayerRatios[l] > chosen.LayerRatios![l]);
        }
        else
        {
            chosen = within.MaxBy(p => p.Ratio)!;
            Assert.All(result.Probes.Where(p => !p.WithinBudget), p => Assert.True(p.Ratio > chosen.Ratio, $"probe {p.Ratio} over budget below the choice {chosen.Ratio}"));
            Assert.Null(result.ChosenLayerRatios);
        }
        Assert.True(chosen.Cost <= limit);

        // The model is pruned exactly as the chosen probe: deletions, weights and ChosenRatio.
        var expected = PrunedAs(original, request, chosen);
        long total = 0, deleted = 0;
        for (int l = 0; l < model.LayerCount; l++)
        {
            long dense = model.State[l].DenseWeights;
            total += dense;
            deleted += model.State[l].DeletedCount;
            if (perLayer) Assert.Equal(Floor(chosen.LayerRatios![l], dense), model.State[l].DeletedCount);
            TestKit.BitEqual(TestKit.W(expected, l), TestKit.W(model, l), $"layer {l}");
            Assert.Equal(TestKit.Bools(expected.State[l].Deleted), TestKit.Bools(model.State[l].Deleted));
        }
        if (!perLayer) Assert.Equal(Floor(chosen.Ratio, total), deleted);
        Assert.Equal((double)deleted / total, result.ChosenRatio, 12);
        Assert.Equal("PruneBudget", model.History[^1].Operation);
        Assert.Equal(Evaluator.Evaluate(model, validation).Value, result.Metric);
        Assert.Same(data, model.Dataset);
        Assert.NotNull(model.Baseline);
    }

    [Theory]
    [InlineData(PruneScope.Layer, 0.95, 0.5)]
    [InlineData(PruneScope.Global, 0.95, 0.5)]
    [InlineData(PruneScope.Layer, 0.5, 0.1)]
    [InlineData(PruneScope.Global, 0.5, 0.1)]
    public void AccuracyBudgetChoosesTheMostPruningWithinBudgetOnValidation(PruneScope scope, double confidence, double validationFraction)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 92);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 4, BatchSize = 32, LearningRate = 0.005, Seed = 2 });
        var original = model.Clone();
        // MaxLayerSparsity 1: no cap, so the range's top is what the layers' floors allow.
        var request = new PruningRequest { Ratio = 0, Scope = scope, MaxLayerSparsity = 1 };
        var budget = new BudgetOptions { MaxAccuracyDrop = 0.02, Seed = 11, Probes = 6, Confidence = confidence, ValidationFraction = validationFraction };

        var result = BudgetSearch.Run(model, request, new ScheduleOptions(), data, budget);

        Assert.True(result.Probes.Count <= budget.Probes + 1);
        if (scope == PruneScope.Global)
        {
            // The search starts at the top of the range: 0.999 of the model as the layers' floors allow, on the 1/4096 grid.
            long[] dense = { 64 * 32, 32 * 10 };
            double top = Math.Floor((double)dense.Sum(n => Floor(0.999, n)) / dense.Sum() * 4096) / 4096;
            Assert.Equal(top, result.Probes[0].Ratio);
        }
        else
        {
            // The first try is the most aggressive allocation.
            foreach (var p in result.Probes)
                for (int l = 0; l < 2; l++) Assert.True(p.LayerRatios![l] <= result.Probes[0].LayerRatios![l]);
        }
        AssertBudgetResult(original, model, data, result, request, 0.02, 11, confidence, validationFraction);
    }

    [Fact]
    public void LayerBudgetTakesAShareOfTheMostCautiousAllocationWhenThatIsOver()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 92);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 4, BatchSize = 32, LearningRate = 0.005, Seed = 2 });
        var original = model.Clone();
        var request = new PruningRequest { Ratio = 0, Scope = PruneScope.Layer, MaxLayerSparsity = 1 };
        // A tight budget: the sensitivity table's most cautious allocation (each layer at the
        // level it bore alone with the least drop) is over once the layers are pruned together.
        var budget = new BudgetOptions { MaxAccuracyDrop = 0.002, Seed = 11, Probes = 6 };

        var result = BudgetSearch.Run(model, request, new ScheduleOptions(), data, budget);

        // After the tolerance tries, each later try is a share of the last of them (every layer at
        // or below it, one lower), and a share fits where the allocation did not: before, the
        // search stopped there and pruned nothing.
        var probes = result.Probes.ToList();
        int cautious = Enumerable.Range(0, probes.Count - 1).Last(i => probes.Skip(i + 1).All(q => Below(q, probes[i])));
        Assert.True(cautious < probes.Count - 1, string.Join("; ", probes.Select(p => string.Join(",", p.LayerRatios!))));
        Assert.False(probes[cautious].WithinBudget);
        Assert.Contains(probes.Skip(cautious + 1), p => p.WithinBudget);
        Assert.NotNull(result.ChosenLayerRatios);
        Assert.True(result.ChosenLayerRatios!.Sum() > 0);
        Assert.True(probes.Count <= budget.Probes + 1);
        AssertBudgetResult(original, model, data, result, request, 0.002, 11, 0.95, 0.5);

        static bool Below(BudgetProbe p, BudgetProbe q) =>
            p.LayerRatios!.Zip(q.LayerRatios!).All(z => z.First <= z.Second) && p.LayerRatios!.Zip(q.LayerRatios!).Any(z => z.First < z.Second);
    }

    [Theory]
    [InlineData(PruneScope.Layer, 0.1)]
    [InlineData(PruneScope.Layer, 0.5)]
    [InlineData(PruneScope.Global, 0.1)]
    public void LossBudgetChoosesTheMostPruningWithinBudgetOnValidation(PruneScope scope, double limit)
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(new[] { 10, 24, 1 }, seed: 93);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 6, BatchSize = 32, LearningRate = 0.01, Seed = 3 });
        var original = model.Clone();
        var request = new PruningRequest { Ratio = 0.9, Scope = scope };
        // No -ValidationFraction and a schedule that does not train: half the training rows judge.
        var budget = new BudgetOptions { MaxLossIncrease = limit, Seed = 12, Probes = 5 };

        var result = BudgetSearch.Run(model, request, new ScheduleOptions(), data, budget);

        if (scope == PruneScope.Global) Assert.Equal(0.9, result.Probes[0].Ratio); // the given ratio is the top of the range
        else Assert.All(result.Probes, p => Assert.All(p.LayerRatios!, r => Assert.True(r <= 0.9)));
        AssertBudgetResult(original, model, data, result, request, limit, 12);
    }

    [Fact]
    public void AccuracyBudgetWithNMIsRefusedAndLeavesTheModelUnchanged()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 94);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 4 });
        var snap = TestKit.Snap(model);
        TestKit.Throws("ScheduleNeedsRatio", () => BudgetSearch.Run(model, new PruningRequest { Structure = PruneStructure.NM },
            new ScheduleOptions(), TestKit.Digits, new BudgetOptions { MaxAccuracyDrop = 0.01 }));
        TestKit.SameState(snap, model);
    }

    // ---- 10. the decision and the warning ---------------------------------------------------------

    [Fact]
    public void AccuracyWarningSaysWhatToDoWhenTheSplitIsTooSmall()
    {
        var budget = new BudgetOptions { MaxAccuracyDrop = 0.01 };
        // The case: 320 of 3200 training rows, a one-point budget; 540 rows are needed.
        var text = BudgetSearch.AccuracyWarning(0.01, 320, budget, 3200, trains: false);
        Assert.NotNull(text);
        Assert.Contains("320 rows", text);
        Assert.Contains("at least 540 rows", text);
        Assert.Contains("-ValidationFraction 0.17 or more (540 of the 3200 training rows)", text);
        // The smallest budget 320 rows suit: 2·2.7055/(319 + 2.7055) = 0.01682, rounded up.
        Assert.Contains("a budget of at least 0.0169", text);
        Assert.Null(BudgetSearch.AccuracyWarning(0.01, 540, budget, 3200, trains: false));
        Assert.Null(BudgetSearch.AccuracyWarning(0.01, 6000, budget, 60000, trains: true));
        // Too few training rows for any fraction: more data, or a larger budget.
        var tiny = BudgetSearch.AccuracyWarning(0.01, 12, budget, 120, trains: false);
        Assert.Contains("more data (about 540 validation rows; the training split has 120)", tiny);
        // A schedule that trains gives up at most half its rows, one that does not up to 0.9 of
        // them: 1000 training rows give 900 without training (540 fit), 500 with (they do not).
        Assert.Contains("-ValidationFraction 0.54 or more", BudgetSearch.AccuracyWarning(0.01, 100, budget, 1000, trains: false));
        Assert.Contains("more data (about 540 validation rows", BudgetSearch.AccuracyWarning(0.01, 100, budget, 1000, trains: true));
        // At 0.5 only a row's worth counts: 200 rows for one point.
        var estimate = budget with { Confidence = 0.5 };
        Assert.Null(BudgetSearch.AccuracyWarning(0.01, 200, estimate, 3200, trains: false));
        Assert.Contains("at least 200 rows", BudgetSearch.AccuracyWarning(0.01, 199, estimate, 3200, trains: false));
    }

    private static BudgetProbe Probe(double ratio, double cost, double bound, double limit) =>
        new(ratio, 0, cost, bound <= limit) { Bound = bound };

    [Fact]
    public void LossWarningWhenTheBoundTurnedDownATryThatLookedWithinBudget()
    {
        var budget = new BudgetOptions { MaxLossIncrease = 0.1 };
        // The try at 0.5 measured 0.06 (within 0.1) but its bound 0.2 (width 0.14 > 0.05) is over.
        var probes = new[] { Probe(0.9, 0.8, 0.9, 0.1), Probe(0.5, 0.06, 0.2, 0.1), Probe(0.25, 0.01, 0.03, 0.1) };
        var text = BudgetSearch.LossWarning(probes, 0.1, 200, budget, 2000, trains: true);
        Assert.NotNull(text);
        Assert.Contains("(0.5)", text);
        Assert.Contains("only to within 0.14", text);
        // The width shrinks as 1/√n: 200·(0.14/0.05)² = 1568 rows, more than half the training split.
        Assert.Contains("about 1568 validation rows", text);
        // Turned down because the measured rise is over too: the split is not what stopped it.
        Assert.Null(BudgetSearch.LossWarning(new[] { Probe(0.9, 0.8, 0.9, 0.1), Probe(0.5, 0.15, 0.2, 0.1) }, 0.1, 200, budget, 2000, trains: true));
        // Turned down by a narrow bound: the split resolved it.
        Assert.Null(BudgetSearch.LossWarning(new[] { Probe(0.5, 0.08, 0.12, 0.1) }, 0.1, 200, budget, 2000, trains: true));
        // Without training 0.9 of the rows may judge: 1568 of 2000 is a fraction of 0.79.
        Assert.Contains("-ValidationFraction 0.79 or more (1568 of the 2000 training rows)", BudgetSearch.LossWarning(probes, 0.1, 200, budget, 2000, trains: false));
    }

    [Theory]
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void TheBoundNeverChoosesMoreThanTheEstimate(PruneScope scope)
    {
        // Every try the bound accepts the estimate accepts too, so along the bisection the estimate
        // ends at or above the bound's choice: the bound only ever prunes less.
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 24, 10 }, seed: 95);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.005, Seed = 5 });
        var request = new PruningRequest { Ratio = 0, Scope = scope, MaxLayerSparsity = 1 };
        var estimate = model.Clone();
        var bound = model.Clone();
        var byEstimate = BudgetSearch.Run(estimate, request, new ScheduleOptions(), data, new BudgetOptions { MaxAccuracyDrop = 0.03, Seed = 13, Confidence = 0.5 });
        var byBound = BudgetSearch.Run(bound, request, new ScheduleOptions(), data, new BudgetOptions { MaxAccuracyDrop = 0.03, Seed = 13 });
        Assert.True(byBound.ChosenRatio <= byEstimate.ChosenRatio, $"bound {byBound.ChosenRatio} > estimate {byEstimate.ChosenRatio}");
        // The first try is the same model either way; only the judgement differs.
        Assert.Equal(byEstimate.Probes[0].Metric, byBound.Probes[0].Metric);
        Assert.Equal(byEstimate.Probes[0].Cost, byBound.Probes[0].Cost);
        Assert.True(byBound.Probes[0].Bound > byEstimate.Probes[0].Bound);
    }

    [Fact]
    public void TheResultAndTheHistorySayWhatTheSplitCouldResolve()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 96);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, BatchSize = 32, Seed = 6 });
        var warned = new List<string>();
        // 10 % of Digits' 1438 training rows: 143, too few for 2 points (269 needed at 95 %).
        var result = BudgetSearch.Run(model, new PruningRequest { Scope = PruneScope.Global }, new ScheduleOptions(), data,
            new BudgetOptions { MaxAccuracyDrop = 0.02, Seed = 14, Probes = 2, ValidationFraction = 0.1 }, warn: warned.Add);
        Assert.Equal(143, result.ValidationRows);
        Assert.Equal(0.95, result.Confidence);
        Assert.Equal(PairedBound.OneRowBound(143, 0.95), result.Resolution);
        Assert.Equal(269, result.RowsNeeded);
        Assert.Single(result.Warnings);
        Assert.Equal(result.Warnings, warned);
        var record = model.History[^1];
        Assert.Equal(143, record.Settings["ValidationRows"]);
        Assert.Equal(0.95, record.Settings["Confidence"]);
        Assert.Contains("on 143 rows", record.Note);
        Assert.Contains("smallest drop it can certify 0.0185", record.Note);
        Assert.Contains("too few rows for the budget: it needs 269", record.Note);

        // Half the training rows (719) are enough for 2 points: no warning.
        var ample = Mlp.Create(new[] { 64, 16, 10 }, seed: 96);
        Trainer.Train(ample, data, new TrainingOptions { Epochs = 2, BatchSize = 32, Seed = 6 });
        warned.Clear();
        var enough = BudgetSearch.Run(ample, new PruningRequest { Scope = PruneScope.Global }, new ScheduleOptions(), data,
            new BudgetOptions { MaxAccuracyDrop = 0.02, Seed = 14, Probes = 2, ValidationFraction = 0.5 }, warn: warned.Add);
        Assert.Equal(719, enough.ValidationRows);
        Assert.Empty(enough.Warnings);
        Assert.Empty(warned);
        Assert.DoesNotContain("too few rows", ample.History[^1].Note);
    }

    [Theory]
    [InlineData(0.4)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void AConfidenceOutsideItsRangeIsRefusedAndLeavesTheModelUnchanged(double confidence)
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 97);
        var snap = TestKit.Snap(model);
        var e = TestKit.Throws("InvalidConfidence", () => BudgetSearch.Run(model, new PruningRequest(), new ScheduleOptions(), TestKit.Digits,
            new BudgetOptions { MaxAccuracyDrop = 0.01, Confidence = confidence }));
        Assert.Contains("0.5", e.Message);
        TestKit.SameState(snap, model);
    }

    [Fact]
    public void TheDefaultSplitIsHalfTheTrainingRowsWithoutTrainingAndATenthWithIt()
    {
        var none = new BudgetOptions { MaxAccuracyDrop = 0.01 };
        Assert.Null(none.ValidationFraction);
        Assert.Equal(0.5, none.ValidationFractionFor(new ScheduleOptions()));
        Assert.Equal(0.1, none.ValidationFractionFor(new ScheduleOptions { FineTuneEpochs = 1 }));
        Assert.Equal(0.1, none.ValidationFractionFor(new ScheduleOptions { Schedule = PruneSchedule.Gradual }));
        Assert.Equal(0.3, (none with { ValidationFraction = 0.3 }).ValidationFractionFor(new ScheduleOptions { FineTuneEpochs = 1 }));
    }

    [Fact]
    public void OneValidationRowIsRefusedAndLeavesTheModelUnchanged()
    {
        // floor(0.01 × 120) = 1 row of Iris: nothing to bound.
        var model = Mlp.Create(new[] { 4, 8, 3 }, seed: 98);
        var snap = TestKit.Snap(model);
        int records = model.History.Count;
        var e = TestKit.Throws("TooFewValidationRows", () => BudgetSearch.Run(model, new PruningRequest(), new ScheduleOptions(), TestKit.Iris,
            new BudgetOptions { MaxAccuracyDrop = 0.01, ValidationFraction = 0.01 }));
        Assert.Contains("-ValidationFraction", e.Message);
        TestKit.SameState(snap, model);
        Assert.Equal(records, model.History.Count);
    }
}
