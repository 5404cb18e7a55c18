using Xunit;
using static SparsePrune.Tests.TestKit;

namespace SparsePrune.Tests;

public class DeadNeuronsTests
{
    /// <summary>A Digits model pruned so hard that some hidden neurons lose every incoming or every outgoing weight.</summary>
    private static Mlp HeavilyPruned(Activation activation, int seed)
    {
        var model = Mlp.Create(new[] { 64, 48, 24, 10 }, activation, seed: seed);
        Trainer.Train(model, Digits, new TrainingOptions { Epochs = 2, BatchSize = 64, Seed = 1 });
        Prune(model, 0.97, data: Digits);
        return model;
    }

    [Theory]
    [InlineData(0)] // ReLU
    [InlineData(1)] // Tanh: a neuron without inputs outputs tanh(bias), not 0, so the fold into the next bias matters
    public void RemovingDeadNeuronsKeepsEveryOutput(int activation)
    {
        var model = HeavilyPruned(FirstActivations[activation], seed: 3);
        var rows = RandomRows(200, 64, seed: 5, scale: 2);
        var before = Forward(model, rows, 200);
        long hiddenBefore = model.HiddenNeurons;

        var removed = DeadNeurons.Remove(model);

        Assert.True(removed.Sum() > 0, "97 % pruning of a 64-48-24-10 model leaves some neuron without inputs or outputs");
        Assert.Equal(hiddenBefore - removed.Sum(), model.HiddenNeurons);
        var after = Forward(model, rows, 200);
        for (int i = 0; i < before.Length; i++) Assert.True(Math.Abs(before[i] - after[i]) <= 1e-5 * Math.Max(1, Math.Abs(before[i])), $"output {i}: {before[i]} then {after[i]}");
        Assert.Equal("RemoveDeadNeurons", model.History[^1].Operation);
        // Nothing dead is left: a second pass removes nothing and records nothing.
        int records = model.History.Count;
        Assert.Equal(0, DeadNeurons.Remove(model).Sum());
        Assert.Equal(records, model.History.Count);
    }

    [Fact]
    public void AMaskedModelIsLeftAlone()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 1);
        Sparsify(model, 0.99);
        var widths = model.Widths;
        Assert.Equal(0, DeadNeurons.Remove(model).Sum());
        Assert.Equal(widths, model.Widths);
    }
}
