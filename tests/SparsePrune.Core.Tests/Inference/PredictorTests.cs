using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Predictions on raw rows (the model keeps the train statistics), metrics against managed
/// computations, fine-tuning after pruning, and models used from other threads.
/// </summary>
public class PredictorTests
{
    [Fact]
    public void PredictTakesRawRowsAndNormalizesThemWithTheTrainStatistics()
    {
        var std = DatasetLoader.Iris(new DatasetOptions { Seed = 11 });
        var raw = DatasetLoader.Iris(new DatasetOptions { Seed = 11, Normalization = Normalization.None });
        Assert.Equal(std.TestY, raw.TestY); // same split
        var model = Mlp.Create(new[] { 4, 10, 3 }, seed: 91);
        Trainer.Train(model, std, new TrainingOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.01, Seed = 1 });
        Assert.Equal(Normalization.Standard, model.InputNormalization);

        var predictions = Predictor.Predict(model, raw.TestX, raw.TestCount, firstRow: 100).Cast<ClassPrediction>().ToList();
        var reference = TestKit.ManagedForward(model, std.TestX, std.TestCount);
        Assert.Equal(std.TestCount, predictions.Count);
        int correct = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            Assert.Equal(100 + i, p.Row);
            // Softmax of the managed outputs on the normalized rows.
            var z = reference[i];
            double max = z.Max();
            var e = z.Select(v => Math.Exp(v - max)).ToArray();
            var probs = e.Select(v => v / e.Sum()).ToArray();
            for (int k = 0; k < 3; k++) Assert.InRange(p.Probabilities[k], probs[k] - 1e-4, probs[k] + 1e-4);
            Assert.Equal(1.0, p.Probabilities.Sum(), 5);
            Assert.Equal(p.Probabilities.Max(), p.Probability);
            Assert.Equal(std.ClassNames[p.ClassIndex], p.Label);
            if (p.ClassIndex == (int)std.TestY[i]) correct++;
        }
        Assert.True(correct >= predictions.Count * 0.8, $"{correct} of {predictions.Count} test flowers");
    }

    [Fact]
    public void RegressionPredictionsMatchTheManagedForwardPass()
    {
        var std = DatasetLoader.Synthetic(new DatasetOptions { Seed = 12 });
        var raw = DatasetLoader.Synthetic(new DatasetOptions { Seed = 12, Normalization = Normalization.None });
        var model = Mlp.Create(new[] { 10, 8, 1 }, Activation.Tanh, seed: 92);
        Trainer.Train(model, std, new TrainingOptions { Epochs = 2, Seed = 2 });
        var values = Predictor.Predict(model, raw.TestX, raw.TestCount).Cast<RegressionPrediction>().Select(p => p.Value).ToArray();
        var reference = TestKit.ManagedForward(model, std.TestX, std.TestCount);
        for (int i = 0; i < values.Length; i++) Assert.InRange(values[i], reference[i][0] - 1e-4, reference[i][0] + 1e-4);
    }

    [Fact]
    public void UntrainedClassifierLabelsAreClassIndices()
    {
        var model = Mlp.Create(new[] { 3, 4 }, seed: 93);
        var p = (ClassPrediction)Predictor.Predict(model, new[] { 0.5f, -1f, 2f }, 1)[0];
        Assert.Equal(p.ClassIndex.ToString(), p.Label);
        Assert.Equal(4, p.Probabilities.Length);
    }

    [Fact]
    public void EvaluatorLossAndAccuracyMatchManagedComputation()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 6, 3 }, Activation.Sigmoid, seed: 94);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, Seed = 3 });
        var (accuracy, loss, samples) = Evaluator.Score(model, data);
        var outputs = TestKit.ManagedForward(model, data.TestX, data.TestCount);
        double ce = 0;
        int correct = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            var z = outputs[i];
            double max = z.Max();
            double lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            int y = (int)data.TestY[i];
            ce += lse - z[y];
            int best = Array.IndexOf(z, z.Max());
            if (best == y) correct++;
        }
        Assert.Equal(data.TestCount, samples);
        Assert.InRange(loss, ce / samples - 1e-4, ce / samples + 1e-4);
        Assert.InRange(accuracy!.Value, (double)correct / samples - 2.0 / samples, (double)correct / samples + 2.0 / samples);

        var reg = Mlp.Create(new[] { 10, 5, 1 }, seed: 95);
        var regData = TestKit.Synthetic;
        var mse = TestKit.ManagedForward(reg, regData.TestX, regData.TestCount).Select((o, i) => Math.Pow(o[0] - regData.TestY[i], 2)).Average();
        var metric = Evaluator.Evaluate(reg, regData);
        Assert.Equal("Loss", metric.Name);
        Assert.InRange(metric.Value, mse * (1 - 1e-4), mse * (1 + 1e-4));

        var m = Evaluator.Measure(reg, regData, repeats: 5, batchSize: 32);
        Assert.Equal(regData.TestCount, m.Samples);
        Assert.Null(m.Accuracy);
        Assert.True(m.LatencyMs > 0);
        Assert.Equal(32, m.BatchSize);
    }

    [Fact]
    public void FineTuningAfterPruningKeepsDeletionsAndRecordsHistory()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 20, 10 }, seed: 96);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, Seed = 4 });
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.7 });
        var result = Pruner.Apply(model, plan, data, fineTuneEpochs: 2, new TrainingOptions { Seed = 5 });
        Assert.NotNull(result);
        Assert.Equal(2, result!.EpochsCompleted);
        Assert.Equal(new[] { "Train", "Prune", "FineTune" }, model.History.Select(h => h.Operation));
        Assert.Equal(Enumerable.Range(1, 3), model.History.Select(h => h.Step));
        for (int l = 0; l < 2; l++)
        {
            var deleted = TestKit.Bools(model.State[l].Deleted);
            Assert.Equal(Ranking.FloorCount(0.7, deleted.Length), TestKit.CountTrue(deleted));
            var w = TestKit.W(model, l);
            for (int k = 0; k < w.Length; k++) if (deleted[k]) Assert.Equal(0f, w[k]);
        }
        Assert.True(result.Metric!.Value > 0.5);
        var report = CompressionReport.Create(model, data);
        Assert.Equal(model.Baseline!.Metric, report.BaselineMetric);
        Assert.Equal(result.Metric.Value, report.Metric);
    }

    [Fact]
    public void ModelsWorkFromOtherThreads()
    {
        var data = TestKit.Iris;
        var original = Mlp.Create(new[] { 4, 8, 3 }, seed: 97);
        var a = original.Clone("a");
        var b = original.Clone("b");
        var options = new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 6 };
        var sequential = original.Clone("s");
        Trainer.Train(sequential, data, options);
        var ta = Task.Run(() => { Trainer.Train(a, data, options); TestKit.Sparsify(a, 0.5); });
        var tb = Task.Run(() => { Trainer.Train(b, data, options); TestKit.Sparsify(b, 0.5); });
        Task.WaitAll(ta, tb);
        TestKit.Sparsify(sequential, 0.5);
        for (int l = 0; l < 2; l++)
        {
            TestKit.BitEqual(TestKit.W(sequential, l), TestKit.W(a, l), $"a layer {l}");
            TestKit.BitEqual(TestKit.W(sequential, l), TestKit.W(b, l), $"b layer {l}");
        }
        // A model made on one thread is read on another.
        var bytes = Task.Run(() => SpmlpFormat.ToBytes(a)).Result;
        TestKit.BitEqual(TestKit.W(a, 0), TestKit.W(SpmlpFormat.FromBytes(bytes), 0));
    }

    [Fact]
    public void GetWeightAndGetBiasReturnCopies()
    {
        var model = Mlp.Create(new[] { 3, 2, 2 }, seed: 98);
        var w = model.GetWeight(0);
        var b = model.GetBias(0);
        float w00 = w[0, 0], b0 = b[0];
        w[0, 0] = 42f;
        b[0] = 42f;
        Assert.Equal(w00, model.GetWeight(0)[0, 0]);
        Assert.Equal(b0, model.GetBias(0)[0]);
        Assert.Equal(2, model.GetWeight(0).GetLength(0));
        Assert.Equal(3, model.GetWeight(0).GetLength(1));
    }

    [Fact]
    public void DatasetFromObjectsParsesNumbersAndText()
    {
        var features = new List<object?[]>
        {
            new object?[] { 1, 2.5 }, new object?[] { "3", 4.5f }, new object?[] { 5L, "6.5" }, new object?[] { 7.0m, 8 },
        };
        var targets = new List<object?> { "a", "b", "a", "b" };
        var data = DatasetLoader.FromObjects("objs", new[] { "x", "y" }, "label", features, targets,
            new DatasetOptions { TestFraction = 0, Normalization = Normalization.None });
        Assert.Equal(TaskKind.Classification, data.Task);
        Assert.Equal(new[] { "a", "b" }, data.ClassNames);
        var rows = Enumerable.Range(0, 4).Select(i => (data.TrainX[i * 2], data.TrainX[i * 2 + 1], data.TrainY[i])).OrderBy(r => r.Item1).ToArray();
        Assert.Equal(new[] { (1f, 2.5f, 0f), (3f, 4.5f, 1f), (5f, 6.5f, 0f), (7f, 8f, 1f) }, rows);
        TestKit.Throws("InvalidFeatureValue", () => DatasetLoader.FromObjects("bad", new[] { "x" }, "t",
            new List<object?[]> { new object?[] { null }, new object?[] { 1 } }, new List<object?> { "a", "b" }, new DatasetOptions()));
    }
}
