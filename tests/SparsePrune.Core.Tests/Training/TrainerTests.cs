using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Training: masks and deletions hold through ≥100 optimizer steps (SGD with momentum, Adam),
/// training learns Digits, cancellation stops at a batch boundary, seeds make runs
/// bit-identical.
/// </summary>
public class TrainerTests
{
    private static readonly int[] DigitsWidths = { 64, 24, 10 };

    /// <summary>Epochs needed for at least <paramref name="steps"/> optimizer steps on the train split.</summary>
    private static int EpochsFor(int steps, int trainRows, int batch)
    {
        int perEpoch = (trainRows + batch - 1) / batch;
        return (steps + perEpoch - 1) / perEpoch;
    }

    public static IEnumerable<object[]> Optimizers => new[]
    {
        new object[] { OptimizerKind.SGD, 0.9, 0.05 },
        new object[] { OptimizerKind.Adam, 0.0, 0.01 },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void MasksSurviveAHundredOptimizerSteps(OptimizerKind optimizer, double momentum, double lr)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(DigitsWidths, seed: 51);
        TestKit.Sparsify(model, 0.6, data: data);
        var masked = Enumerable.Range(0, 2).Select(l => TestKit.ZeroSet(TestKit.W(model, l))).ToArray();
        var hidden = Enumerable.Range(0, 2).Select(l => TestKit.Floats(model.State[l].MaskedValues)).ToArray();
        var beforeTraining = Enumerable.Range(0, 2).Select(l => TestKit.W(model, l)).ToArray();
        const int batch = 64;
        int epochs = EpochsFor(100, data.TrainCount, batch);
        Assert.True(epochs * ((data.TrainCount + batch - 1) / batch) >= 100);

        var result = Trainer.Train(model, data, new TrainingOptions
        {
            Epochs = epochs, BatchSize = batch, Optimizer = optimizer, Momentum = momentum, LearningRate = lr,
            WeightDecay = 1e-3, Seed = 1,
        });
        Assert.Equal(epochs, result.EpochsCompleted);

        for (int l = 0; l < 2; l++)
        {
            var w = TestKit.W(model, l);
            foreach (var k in masked[l]) Assert.True(w[k] == 0f, $"layer {l} weight {k} was masked but is {w[k]} after training");
            // Training did move the free weights.
            Assert.Contains(Enumerable.Range(0, w.Length), k => !masked[l].Contains(k) && w[k] != beforeTraining[l][k]);
            Assert.Equal(masked[l].Count, w.Length - TestKit.CountNonZero(w));
            TestKit.BitEqual(hidden[l], TestKit.Floats(model.State[l].MaskedValues), $"layer {l} hidden values");
        }

        // Set-Sparsity 0 brings back the values behind the mask, as they were before training.
        var trained = Enumerable.Range(0, 2).Select(l => TestKit.W(model, l)).ToArray();
        TestKit.Sparsify(model, 0);
        for (int l = 0; l < 2; l++)
        {
            var w = TestKit.W(model, l);
            for (int k = 0; k < w.Length; k++)
                Assert.Equal(masked[l].Contains(k) ? beforeTraining[l][k] + hidden[l][k] : trained[l][k], w[k]);
        }
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void DeletedConnectionsStayDeletedThroughTraining(OptimizerKind optimizer, double momentum, double lr)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(DigitsWidths, seed: 52);
        TestKit.Prune(model, 0.5, data: data);
        var deleted = Enumerable.Range(0, 2).Select(l => TestKit.Bools(model.State[l].Deleted)).ToArray();
        long weights = model.Weights;
        const int batch = 64;
        int epochs = EpochsFor(100, data.TrainCount, batch);
        Trainer.Train(model, data, new TrainingOptions
        {
            Epochs = epochs, BatchSize = batch, Optimizer = optimizer, Momentum = momentum, LearningRate = lr, L1 = 1e-4, Seed = 2,
        });
        for (int l = 0; l < 2; l++)
        {
            var w = TestKit.W(model, l);
            for (int k = 0; k < w.Length; k++) if (deleted[l][k]) Assert.True(w[k] == 0f, $"layer {l} deleted weight {k} is {w[k]}");
            Assert.Equal(deleted[l], TestKit.Bools(model.State[l].Deleted));
            Assert.Equal(LayerStorage.Sparse, model.Layers[l].Stored);
        }
        Assert.Equal(weights, model.Weights);
        // And Set-Sparsity 0 does not bring them back.
        TestKit.Sparsify(model, 0);
        for (int l = 0; l < 2; l++)
        {
            var w = TestKit.W(model, l);
            for (int k = 0; k < w.Length; k++) if (deleted[l][k]) Assert.Equal(0f, w[k]);
        }
    }

    [Fact]
    public void TrainingLearnsDigits()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(DigitsWidths, seed: 53);
        var (_, lossBefore, _) = Evaluator.Score(model, data);
        var result = Trainer.Train(model, data, new TrainingOptions { Epochs = 6, BatchSize = 32, LearningRate = 0.005, Seed = 3 });
        var (accuracy, lossAfter, samples) = Evaluator.Score(model, data);
        Assert.Equal(data.TestCount, samples);
        Assert.True(accuracy > 0.8, $"accuracy {accuracy} after 6 epochs");
        Assert.True(lossAfter < lossBefore / 2, $"loss {lossBefore} -> {lossAfter}");
        Assert.Equal("Accuracy", result.Metric!.Name);
        // The metric agrees with an independent managed forward pass.
        double managed = TestKit.ManagedAccuracy(model, data);
        Assert.InRange(result.Metric.Value, managed - 2.0 / samples, managed + 2.0 / samples);
        Assert.Same(data, model.Dataset);
        Assert.Equal(data.ClassNames, model.ClassNames);
        Assert.Equal("Train", model.History[^1].Operation);
        Assert.Null(model.History[^1].Note);
    }

    [Fact]
    public void TrainingReducesRegressionLoss()
    {
        var data = TestKit.Synthetic;
        var model = Mlp.Create(new[] { 10, 16, 1 }, seed: 54);
        Assert.Equal(TaskKind.Regression, model.Task);
        var before = Evaluator.Evaluate(model, data);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 8, BatchSize = 32, LearningRate = 0.01, Seed = 4 });
        var after = Evaluator.Evaluate(model, data);
        Assert.Equal("Loss", after.Name);
        Assert.True(after.Value < before.Value * 0.5, $"MSE {before.Value} -> {after.Value}");
    }

    [Fact]
    public void CancellationMidEpochStopsAtABatchBoundaryAndLeavesAUsableModel()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(DigitsWidths, seed: 55);
        var initial = Enumerable.Range(0, 2).Select(l => TestKit.W(model, l)).ToArray();
        using var cts = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        var result = Trainer.Train(model, data, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = 5 }, w =>
        {
            var p = w.Training!;
            reports.Add(p);
            if (!p.EpochDone && p.Batch >= 25) cts.Cancel();
        }, cts.Token);

        Assert.True(result.Stopped);
        Assert.Equal(0, result.EpochsCompleted);
        Assert.Single(reports); // nothing ran after the cancellation
        Assert.True(double.IsFinite(result.FinalLoss));
        Assert.Contains("stop", model.History[^1].Note ?? "", StringComparison.OrdinalIgnoreCase);
        // The 25 steps that ran are kept, and the model is usable.
        Assert.NotEqual(TestKit.Bits(initial[0]), TestKit.Bits(TestKit.W(model, 0)));
        Assert.All(Enumerable.Range(0, 2).SelectMany(l => TestKit.W(model, l)), v => Assert.True(float.IsFinite(v)));
        var metric = Evaluator.Evaluate(model, data);
        Assert.InRange(metric.Value, 0.0, 1.0);
        var report = CompressionReport.Create(model, data);
        Assert.Equal(metric.Value, report.Metric);
    }

    [Fact]
    public void CancellationAtAnEpochEndEqualsTrainingThatManyEpochs()
    {
        var data = TestKit.Iris;
        var a = Mlp.Create(new[] { 4, 8, 3 }, seed: 56);
        var b = Mlp.Create(new[] { 4, 8, 3 }, seed: 56);
        using var cts = new CancellationTokenSource();
        var ra = Trainer.Train(a, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 6 }, w =>
        {
            if (w.Training is { EpochDone: true, Epoch: 2 }) cts.Cancel();
        }, cts.Token);
        var rb = Trainer.Train(b, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 6 });
        Assert.True(ra.Stopped);
        Assert.False(rb.Stopped);
        Assert.Equal(2, ra.EpochsCompleted);
        for (int l = 0; l < 2; l++)
        {
            TestKit.BitEqual(TestKit.W(b, l), TestKit.W(a, l), $"layer {l} weight");
            TestKit.BitEqual(b.GetBias(l), a.GetBias(l), $"layer {l} bias");
        }
        Assert.Contains("2", a.History[^1].Note ?? "");
    }

    [Fact]
    public void AlreadyCancelledTokenLeavesTheWeightsAsTheyWere()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 8, 3 }, seed: 57);
        var before = TestKit.Snap(model);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var result = Trainer.Train(model, data, new TrainingOptions { Epochs = 3, Seed = 7 }, null, cts.Token);
        Assert.True(result.Stopped);
        Assert.Equal(0, result.EpochsCompleted);
        for (int l = 0; l < 2; l++)
        {
            TestKit.BitEqual(before.Layers[l].Weight, TestKit.W(model, l));
            TestKit.BitEqual(before.Layers[l].Bias, model.GetBias(l));
        }
        _ = Evaluator.Evaluate(model, data);
    }

    [Fact]
    public void DivergedTrainingLeavesTheModelAsItWas()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(DigitsWidths, seed: 58);
        TestKit.Sparsify(model, 0.5, data: data);
        var before = TestKit.Snap(model);
        TestKit.Throws("TrainingDiverged", () => Trainer.Train(model, data, new TrainingOptions
        {
            Epochs = 2, Optimizer = OptimizerKind.SGD, LearningRate = 1e30, Seed = 8,
        }));
        TestKit.SameState(before, model);
    }
}
