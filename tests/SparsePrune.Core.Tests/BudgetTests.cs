using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Measure-LayerSensitivity (the model is not changed; each row deletes floor(level × baseline)
/// in its layer) and the accuracy budget (the chosen ratio is the largest probe within budget,
/// probes judged on the validation split, the model pruned exactly to the choice).
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

    private static void AssertBudgetResult(Mlp original, Mlp model, Dataset data, BudgetResult result, PruningRequest request, double limit, int validationSeed)
    {
        var validation = data.SplitValidation(0.1, validationSeed);
        bool accuracy = data.Task == TaskKind.Classification;
        var baseline = Evaluator.Evaluate(original, validation).Value;
        Assert.Equal(baseline, result.BaselineMetric);
        Assert.Equal(accuracy ? "Accuracy" : "Loss", result.MetricName);
        Assert.NotEmpty(result.Probes);
        bool perLayer = request.Scope == PruneScope.Layer;
        Assert.All(result.Probes, p => Assert.Equal(perLayer, p.LayerRatios is not null));

        // Every probe: its metric is that of the model pruned one-shot as it says, judged on validation.
        foreach (var probe in result.Probes)
        {
            double metric = Evaluator.Evaluate(PrunedAs(original, request, probe), validation).Value;
            Assert.Equal(metric, probe.Metric);
            double cost = accuracy ? baseline - metric : (metric - baseline) / baseline;
            Assert.Equal(cost, probe.Cost, 12);
            Assert.Equal(cost <= limit, probe.WithinBudget);
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
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void AccuracyBudgetChoosesTheMostPruningWithinBudgetOnValidation(PruneScope scope)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 92);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 4, BatchSize = 32, LearningRate = 0.005, Seed = 2 });
        var original = model.Clone();
        // MaxLayerSparsity 1: no cap, so the range's top is what the layers' floors allow.
        var request = new PruningRequest { Ratio = 0, Scope = scope, MaxLayerSparsity = 1 };
        var budget = new BudgetOptions { MaxAccuracyDrop = 0.02, Seed = 11, Probes = 6 };

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
        AssertBudgetResult(original, model, data, result, request, 0.02, 11);
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
}
