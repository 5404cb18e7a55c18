using Xunit;

namespace SparsePrune.Tests;

/// <summary>Seeds: the same seed gives bit-identical weights (creation and training); other seeds differ.</summary>
public class DeterminismTests
{
    private static float[] AllParameters(Mlp m) =>
        Enumerable.Range(0, m.LayerCount).SelectMany(l => TestKit.W(m, l).Concat(m.GetBias(l))).ToArray();

    [Fact]
    public void SameSeedSameInitialWeights()
    {
        var a = Mlp.Create(new[] { 64, 32, 16, 10 }, seed: 81);
        var b = Mlp.Create(new[] { 64, 32, 16, 10 }, seed: 81);
        Assert.Equal(81, a.Seed);
        TestKit.BitEqual(AllParameters(a), AllParameters(b));
    }

    [Fact]
    public void DifferentSeedsDifferentInitialWeights()
    {
        var a = Mlp.Create(new[] { 64, 32, 10 }, seed: 81);
        var b = Mlp.Create(new[] { 64, 32, 10 }, seed: 82);
        var pa = AllParameters(a);
        var pb = AllParameters(b);
        Assert.True(pa.Zip(pb).Count(p => p.First != p.Second) > pa.Length * 0.99);
    }

    [Fact]
    public void InitialWeightsFollowTheFanInBound()
    {
        var model = Mlp.Create(new[] { 25, 16, 4 }, seed: 83);
        foreach (var (layer, fanIn) in new[] { (0, 25), (1, 16) })
        {
            double bound = 1.0 / Math.Sqrt(fanIn);
            var values = TestKit.W(model, layer).Concat(model.GetBias(layer)).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            Assert.True(values.Max() > bound * 0.8 && values.Min() < -bound * 0.8);
        }
    }

    [Fact]
    public void NoSeedGivesARecordedRandomSeed()
    {
        var a = Mlp.Create(new[] { 8, 4, 2 });
        var b = Mlp.Create(new[] { 8, 4, 2 }, seed: a.Seed);
        TestKit.BitEqual(AllParameters(a), AllParameters(b));
    }

    [Fact]
    public void SameSeedsGiveBitIdenticalTraining()
    {
        var data = TestKit.Digits;
        var a = Mlp.Create(new[] { 64, 24, 10 }, seed: 84);
        var b = Mlp.Create(new[] { 64, 24, 10 }, seed: 84);
        TestKit.Sparsify(a, 0.5);
        TestKit.Sparsify(b, 0.5);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 32, Seed = 9 };
        var ra = Trainer.Train(a, data, options);
        var rb = Trainer.Train(b, data, options);
        TestKit.BitEqual(AllParameters(a), AllParameters(b));
        Assert.Equal(ra.FinalLoss, rb.FinalLoss);
        Assert.Equal(9, ra.Seed);

        // SGD with momentum too.
        var sgd = new TrainingOptions { Epochs = 1, BatchSize = 50, Optimizer = OptimizerKind.SGD, Momentum = 0.9, Seed = 10 };
        Trainer.Train(a, data, sgd);
        Trainer.Train(b, data, sgd);
        TestKit.BitEqual(AllParameters(a), AllParameters(b));
    }

    [Fact]
    public void DifferentTrainingSeedsDiffer()
    {
        var data = TestKit.Iris;
        var a = Mlp.Create(new[] { 4, 8, 3 }, seed: 85);
        var b = Mlp.Create(new[] { 4, 8, 3 }, seed: 85);
        Trainer.Train(a, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 1 });
        Trainer.Train(b, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 2 });
        Assert.NotEqual(TestKit.Bits(AllParameters(a)), TestKit.Bits(AllParameters(b)));
    }

    [Fact]
    public void TrainingSeedIsRecordedInTheHistory()
    {
        var model = Mlp.Create(new[] { 4, 8, 3 }, seed: 86);
        var result = Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1 });
        Assert.Contains($"Seed={result.Seed}", model.History[^1].Settings.ToString());
        var replay = Mlp.Create(new[] { 4, 8, 3 }, seed: 86);
        Trainer.Train(replay, TestKit.Iris, new TrainingOptions { Epochs = 1, Seed = result.Seed });
        TestKit.BitEqual(AllParameters(model), AllParameters(replay));
    }
}
