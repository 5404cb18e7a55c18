using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Measure-LayerSensitivity: the model is not changed; each row deletes floor(level × baseline)
/// in its layer.
/// </summary>
public class SensitivityAnalysisTests
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
}
