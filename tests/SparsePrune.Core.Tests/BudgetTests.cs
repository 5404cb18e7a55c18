using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Measure-LayerSensitivity (the model is not changed; each row deletes floor(level × baseline)
/// in its layer) and the accuracy budget (the chosen ratio is the largest probe within budget,
/// probes judged by a paired bound on the validation split, the model pruned exactly to the
/// choice); the bound's arithmetic on hand-computed cases, and the warning for a split too small.
/// </summary>
public class BudgetTests
{
    private static long Floor(double r, long n) => (long)Math.Floor((decimal)r * n);

    // ---- 7. layer sensitivity -------------------------------------------------------------------

    [Theory]
    [InlineData(PruneStructure.Connection, PruneCriterion.L1)]
    [InlineData(PruneStructure.Neuron, PruneCriterion.L2)]
    [InlineData(PruneStructure.Connection, PruneCriterion.Taylor)]
    [InlineData(PruneStructure.Neuron, PruneCriterion.Random)]
    public void MeasureLeavesTheModelUnchangedAndPrunesEachLayerToEachLevel(PruneStructure structure, PruneCriterion criterion)
    {
        var widths = new[] { 10, 12, 8, 1 };
        var data = TestKit.Synthetic;
        var model = Mlp.Create(widths, seed: 91);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.01, Seed = 1 });
        var snap = TestKit.Snap(model);
        var history = model.History.ToList();
        var levels = new[] { 0.0, 0.3, 0.75 };

        var rows = SensitivityAnalysis.Measure(model, data, levels, structure, criterion, seed: 5);

        TestKit.SameState(snap, model);
        Assert.Equal(history, model.History);
        Assert.Null(model.Baseline);

        int layers = structure == PruneStructure.Neuron ? widths.Length - 2 : widths.Length - 1;
        Assert.Equal(layers * levels.Length, rows.Count);
        int i = 0;
        for (int l = 0; l < layers; l++)
        {
            long baseline = structure == PruneStructure.Neuron ? widths[l + 1] : (long)widths[l] * widths[l + 1];
            foreach (var level in levels)
            {
                var row = rows[i++];
                Assert.Equal(l, row.Layer);
                Assert.Equal(level, row.Ratio);
                Assert.Equal(structure, row.Structure);
                Assert.Equal(criterion, row.Criterion);
                Assert.Equal($"{widths[l]}x{widths[l + 1]}", row.Shape);
                Assert.True(row.Deleted == Floor(level, baseline), $"layer {l} at {level}: deleted {row.Deleted}, expected floor({level} × {baseline})");
                Assert.Equal("Loss", row.MetricName);
                Assert.Equal(rows[0].BaselineMetric, row.BaselineMetric);
                Assert.Equal(row.Metric - row.BaselineMetric, row.Drop);
                if (level == 0)
                {
                    Assert.Equal(row.BaselineMetric, row.Metric);
                    Assert.Equal(0, row.Drop);
                }
            }
        }
        // The baseline metric is the model's, on the validation split carved with the seed.
        var validation = data.SplitValidation(0.1, 5);
        Assert.Equal(Evaluator.Evaluate(model, validation).Value, rows[0].BaselineMetric);
    }

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

    // ---- 9. the paired bound: arithmetic on hand-computed cases ----------------------------------

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.95, 1.6448536269514715)]
    [InlineData(0.975, 1.9599639845400536)]
    [InlineData(0.99, 2.3263478740408408)]
    [InlineData(0.9999, 3.7190164854557084)]
    public void ZIsTheNormalQuantile(double confidence, double z)
    {
        Assert.Equal(z, PairedBound.Z(confidence), 12);
        Assert.Equal(confidence, PairedBound.NormalCdf(z), 13);
        Assert.Equal(1 - confidence, PairedBound.NormalCdf(-z), 13);
    }

    [Fact]
    public void ZRefusesAConfidenceOutsideItsRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(0.4));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(double.NaN));
    }

    [Fact]
    public void AccuracyBoundFromDiscordantRows()
    {
        // 100 rows, 3 lost, 1 gained: mean (3 − 1)/100 = 0.02; Σd² = 4, so the sample variance is
        // (4 − 100·0.02²)/99 = 3.96/99 = 0.04 and the standard error √(0.04/100) = 0.02;
        // at 95 % the bound is 0.02 + 1.6448536·0.02 = 0.0528971.
        var e = PairedBound.Accuracy(100, 3, 1, 0.95);
        Assert.Equal(100, e.Rows);
        Assert.Equal(0.02, e.Estimate, 15);
        Assert.Equal(0.03289707253902943, e.Width, 12);
        Assert.Equal(0.052897072539029436, e.Bound, 12);
        Assert.Equal(3, e.Lost);
        Assert.Equal(1, e.Gained);
        // At 0.5 the bound is the estimate: the search as it judged before it had a bound.
        Assert.Equal(0.02, PairedBound.Accuracy(100, 3, 1, 0.5).Bound, 15);
    }

    [Fact]
    public void AccuracyBoundCountsGainsAgainstLosses()
    {
        // 200 rows, 1 lost, 5 gained: mean −4/200 = −0.02; variance (6 − 200·0.0004)/199 = 5.92/199;
        // bound −0.02 + 1.6448536·√(5.92/199/200) = 0.0000607: a drop of at most 0.006 points.
        var e = PairedBound.Accuracy(200, 1, 5, 0.95);
        Assert.Equal(-0.02, e.Estimate, 15);
        Assert.Equal(6.0722673348678063e-05, e.Bound, 12);
        Assert.True(e.Bound <= 0.001);
    }

    [Fact]
    public void AccuracyBoundWithNoChangedRowIsNotZero()
    {
        // No row changed: a zero variance would bound the drop at 0 however few the rows. It counts
        // one discordant row instead: (1 − 0)/99, bound 1.6448536·√(1/9900) = 0.0165.
        var e = PairedBound.Accuracy(100, 0, 0, 0.95);
        Assert.Equal(0, e.Estimate);
        Assert.Equal(0.016531400956524982, e.Bound, 12);
        // So 12 rows that agree cannot certify a one-point budget, and 1000 can.
        Assert.True(PairedBound.Accuracy(12, 0, 0, 0.95).Bound > 0.01);
        Assert.True(PairedBound.Accuracy(1000, 0, 0, 0.95).Bound < 0.01);
    }

    [Fact]
    public void AccuracyBoundFromRowScoresCountsTheDiscordantPairs()
    {
        // Rows 1 and 5 lost (1 → 0), row 3 gained (0 → 1), rows 0, 2, 4 unchanged.
        double[] reference = { 1, 1, 1, 0, 0, 1 }, pruned = { 1, 0, 1, 1, 0, 0 };
        var e = PairedBound.Accuracy(reference, pruned, 0.95);
        Assert.Equal(2, e.Lost);
        Assert.Equal(1, e.Gained);
        // mean 1/6; variance (3 − 6/36)/5 = 0.5666667; bound 1/6 + 1.6448536·√(0.5666667/6) = 0.6721600.
        Assert.Equal(1.0 / 6, e.Estimate, 15);
        Assert.Equal(0.6721600379806181, e.Bound, 12);
        Assert.Equal(PairedBound.Accuracy(6, 2, 1, 0.95), e);
    }

    [Fact]
    public void LossBoundIsRelativeToTheReferenceLoss()
    {
        // Per-row squared errors; differences 0.5, 0, 1, −0.5: mean 0.25, sample variance 1.25/3,
        // standard error √(1.25/3/4) = 0.3227486, width 1.6448536·0.3227486 = 0.5308742; the
        // reference loss is 1, so the relative rise is 0.25 and its bound 0.7808742.
        double[] reference = { 1, 1, 1, 1 }, pruned = { 1.5, 1, 2, 0.5 };
        var e = PairedBound.Loss(reference, pruned, 0.95);
        Assert.Equal(0.25, e.Estimate, 15);
        Assert.Equal(0.5308742253443264, e.Width, 12);
        Assert.Equal(0.7808742253443264, e.Bound, 12);
        Assert.Null(e.Lost);
        // The same differences over a reference loss of 2 are half as large a rise, bound and all.
        var twice = PairedBound.Loss(new double[] { 2, 2, 2, 2 }, new[] { 2.5, 2, 3, 1.5 }, 0.95);
        Assert.Equal(0.125, twice.Estimate, 15);
        Assert.Equal(0.7808742253443264 / 2, twice.Bound, 12);
        // A reference without error: any rise is infinite, none is none.
        Assert.Equal(double.PositiveInfinity, PairedBound.Loss(new double[] { 0, 0 }, new double[] { 0, 1 }, 0.95).Bound);
        Assert.Equal(0, PairedBound.Loss(new double[] { 0, 0 }, new double[] { 0, 0 }, 0.95).Bound);
    }

    [Fact]
    public void BoundsRefuseRowsThatDoNotPair()
    {
        Assert.Throws<ArgumentException>(() => PairedBound.Accuracy(new double[] { 1, 0 }, new double[] { 1 }, 0.95));
        Assert.Throws<ArgumentException>(() => PairedBound.Loss(new double[] { 1 }, new double[] { 1 }, 0.95));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Accuracy(10, 8, 3, 0.95));
    }

    [Fact]
    public void RowsNeededAndSmallestBudgetAreOneRuleReadBothWays()
    {
        // 1 % at 95 %: h = 0.005, 1 + 1.6448536²·0.995/0.005 = 539.4 → 540 rows.
        Assert.Equal(540, PairedBound.RowsNeeded(0.01, 0.95));
        // 10 % at 95 %: 1 + 2.7055·0.95/0.05 = 52.4 → 53.
        Assert.Equal(53, PairedBound.RowsNeeded(0.1, 0.95));
        // At 0.5 only the row's worth counts: one row at most half of 1 % → 200 rows, exactly.
        Assert.Equal(200, PairedBound.RowsNeeded(0.01, 0.5));
        Assert.Equal(int.MaxValue, PairedBound.RowsNeeded(0, 0.95));
        // 143 rows: 2·max(1/143, 2.7055/(142 + 2.7055)) = 0.0373938.
        Assert.Equal(0.037393777591577665, PairedBound.SmallestBudget(143, 0.95), 12);
        foreach (int n in new[] { 12, 143, 320, 575, 6000 })
        {
            double smallest = PairedBound.SmallestBudget(n, 0.95);
            Assert.True(PairedBound.RowsNeeded(smallest * 1.0001, 0.95) <= n, $"{n} rows are enough for {smallest}");
            Assert.True(PairedBound.RowsNeeded(smallest * 0.999, 0.95) > n, $"{n} rows are too few below {smallest}");
        }
        // The one-row bound: what 143 rows can certify at best (1/143 + 1.6448536·√((1 − 1/143)/142/143)).
        Assert.Equal(0.01849547990875155, PairedBound.OneRowBound(143, 0.95), 12);
        Assert.Equal(0.008265167584223347, PairedBound.OneRowBound(320, 0.95), 12);
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
