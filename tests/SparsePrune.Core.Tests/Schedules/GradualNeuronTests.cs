using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Neuron pruning inside training masks neurons (deletes their rows and the next layer's
/// columns, shapes kept, so the optimizer keeps its state) and removes them when training ends.
/// </summary>
public class GradualNeuronTests
{
    private static readonly int[] Widths = { 10, 12, 8, 1 };

    [Fact]
    public void MaskedNeuronsCountAsRemovedAndAreNotChosenAgain()
    {
        var model = Mlp.Create(Widths, seed: 5);
        var masked = new MaskedNeurons(new[] { new[] { 0, 3 }, Array.Empty<int>() });
        var request = new PruningRequest { Structure = PruneStructure.Neuron, Ratio = 0.5 };
        using var plan = Pruner.Plan(model, request, null, null, masked);
        Assert.Equal(NeuronApplication.MaskDuringTraining, plan.NeuronApplication);
        Assert.Empty(plan.RemovedNeurons);
        Pruner.ApplyToLayers(model, plan);

        // Shapes stay; floor(0.5 × 12) = 6 in layer 0, of which 2 were masked: 4 more; floor(0.5 × 8) = 4 in layer 1.
        Assert.Equal(Widths, model.Widths);
        Assert.Equal(4, plan.NewlyMasked[0].Count);
        Assert.Equal(4, plan.NewlyMasked[1].Count);
        Assert.DoesNotContain(0, plan.NewlyMasked[0]);
        Assert.DoesNotContain(3, plan.NewlyMasked[0]);

        // The chosen neurons' rows and the next layer's columns are deleted, nothing else.
        for (int l = 0; l < 2; l++)
        {
            var deleted = TestKit.Bools(model.State[l].Deleted);
            int inF = model.State[l].InFeatures, outF = model.State[l].OutFeatures;
            var rows = plan.NewlyMasked[l].ToHashSet();
            var cols = l > 0 ? plan.NewlyMasked[l - 1].ToHashSet() : new HashSet<int>();
            for (int o = 0; o < outF; o++)
                for (int i = 0; i < inF; i++)
                    Assert.Equal(rows.Contains(o) || cols.Contains(i), deleted[o * inF + i]);
        }
        var outCols = plan.NewlyMasked[1].ToHashSet();
        var lastDeleted = TestKit.Bools(model.State[2].Deleted);
        for (int i = 0; i < 8; i++) Assert.Equal(outCols.Contains(i), lastDeleted[i]);
    }

    [Fact]
    public void GradualNeuronPruningEndsWithSmallerDenseLayersAndTheSameFunction()
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(Widths, seed: 9);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 1, BatchSize = 32, Seed = 1 });
        var options = new ScheduleOptions { Schedule = PruneSchedule.Gradual, Epochs = 2, UpdateEvery = 5, Training = new TrainingOptions { BatchSize = 32, Seed = 2 } };
        PruningScheduler.Run(model, new PruningRequest { Structure = PruneStructure.Neuron, Ratio = 0.5 }, options, data);

        Assert.Equal(new[] { 10, 12 - 6, 8 - 4, 1 }, model.Widths);
        // Masks were turned into removal: no deleted connection is left behind.
        Assert.All(model.State, l => Assert.Null(l.Deleted));
        Assert.All(model.Layers, l => Assert.Equal(LayerStorage.Dense, l.Stored));
        // Origins name 6 and 4 distinct original neurons.
        Assert.Equal(6, model.OriginOf(0).Distinct().Count());
        Assert.Equal(4, model.OriginOf(1).Distinct().Count());
        Assert.Equal("GradualPrune", model.History[^1].Operation);
        Assert.Equal(model.Weights, model.History[^1].WeightsAfter);
    }
}
