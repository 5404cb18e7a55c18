using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Bad input: every error carries its stable ErrorId, and the model is left exactly as it
/// was (weights, masks, flags, baseline, history, data set).
/// </summary>
public class ValidationTests
{
    /// <summary>A model with a mask, deletions, a baseline and history, so that "unchanged" means something.</summary>
    private static Mlp UsedModel()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 71);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        TestKit.Sparsify(model, 0.3, data: TestKit.Digits);
        TestKit.Prune(model, 0.1);
        return model;
    }

    [Fact]
    public void OneWidthIsTooFewLayers()
    {
        TestKit.Throws("TooFewLayers", () => Mlp.Create(new[] { 10 }));
        TestKit.Throws("TooFewLayers", () => Mlp.Create(Array.Empty<int>()));
        TestKit.Throws("TooFewLayers", () => Mlp.Create(null!));
    }

    [Theory]
    [InlineData(new[] { 10, 0, 3 })]
    [InlineData(new[] { 10, -5, 3 })]
    [InlineData(new[] { 0, 5, 3 })]
    [InlineData(new[] { 10, 5, -1 })]
    [InlineData(new[] { 10, 2_000_000, 3 })]
    public void ZeroNegativeOrHugeWidthIsInvalidLayerWidth(int[] widths)
    {
        var e = TestKit.Throws("InvalidLayerWidth", () => Mlp.Create(widths));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void ClassifierNeedsTwoOutputs()
    {
        TestKit.Throws("ClassificationNeedsTwoOutputs", () => Mlp.Create(new[] { 4, 1 }, task: TaskKind.Classification));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void SparsityOutsideZeroOneIsInvalidSparsity(double s)
    {
        var model = UsedModel();
        var before = TestKit.Snap(model);
        TestKit.Throws("InvalidSparsity", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = s }));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void OtherSparsityRequestErrors()
    {
        var model = UsedModel();
        var before = TestKit.Snap(model);
        TestKit.Throws("SparsityTargetRequired", () => Sparsifier.Plan(model, new SparsityRequest()));
        TestKit.Throws("SparsityTargetRequired", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Threshold = 0.1 }));
        TestKit.Throws("InvalidThreshold", () => Sparsifier.Plan(model, new SparsityRequest { Threshold = -1 }));
        TestKit.Throws("LayerOutOfRange", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Layers = new[] { 2 } }));
        TestKit.Throws("DuplicateLayer", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Layers = new[] { 0, 0 } }));
        TestKit.Throws("LayerOutOfRange", () => model.GetWeight(5));
        TestKit.SameState(before, model);
    }

    [Theory]
    [InlineData(1.0, PruneStructure.Connection)]
    [InlineData(1.0, PruneStructure.Neuron)]
    [InlineData(-0.1, PruneStructure.Connection)]
    [InlineData(2.0, PruneStructure.Neuron)]
    [InlineData(double.NaN, PruneStructure.Connection)]
    public void RatioOutsideZeroOneIsInvalidRatio(double r, PruneStructure structure)
    {
        var model = UsedModel();
        var before = TestKit.Snap(model);
        TestKit.Throws("InvalidRatio", () => Pruner.Plan(model, new PruningRequest { Ratio = r, Structure = structure }));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void DataWithADifferentFeatureCountIsRejectedEverywhere()
    {
        var model = UsedModel();
        var before = TestKit.Snap(model);
        var iris = TestKit.Iris;
        TestKit.Throws("FeatureMismatch", () => Trainer.Train(model, iris, new TrainingOptions { Epochs = 1 }));
        TestKit.SameState(before, model);
        TestKit.Throws("FeatureMismatch", () => Evaluator.Evaluate(model, iris));
        TestKit.Throws("FeatureMismatch", () => CompressionReport.Create(model, iris));
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 }))
            TestKit.Throws("FeatureMismatch", () => Pruner.Apply(model, plan, iris));
        TestKit.SameState(before, model);
        TestKit.Throws("FeatureCountMismatch", () => Predictor.Predict(model, new float[10], 1));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void TaskAndClassMismatchesAreRejected()
    {
        var classifier = Mlp.Create(new[] { 10, 4, 3 }, seed: 72);
        var before = TestKit.Snap(classifier);
        var task = TestKit.Throws("TaskMismatch", () => Trainer.Train(classifier, TestKit.Synthetic, new TrainingOptions { Epochs = 1 }));
        TestKit.SameState(before, classifier);
        // The likely mistake is the data set: the message offers a classification data set first.
        Assert.Contains("give the model a classification data set", task.Message);
        Assert.True(task.Message.IndexOf("data set", StringComparison.Ordinal) < task.Message.IndexOf("New-Mlp -Task Regression", StringComparison.Ordinal));
        var wrongClasses = Mlp.Create(new[] { 4, 4, 5 }, seed: 73);
        TestKit.Throws("ClassCountMismatch", () => Trainer.Train(wrongClasses, TestKit.Iris, new TrainingOptions { Epochs = 1 }));
    }

    [Fact]
    public void BadTrainingOptionsAreRejectedBeforeAnythingChanges()
    {
        var model = UsedModel();
        var before = TestKit.Snap(model);
        var data = TestKit.Digits;
        TestKit.Throws("InvalidEpochs", () => Trainer.Train(model, data, new TrainingOptions { Epochs = -1 }));
        TestKit.Throws("InvalidBatchSize", () => Trainer.Train(model, data, new TrainingOptions { BatchSize = 0 }));
        TestKit.Throws("InvalidLearningRate", () => Trainer.Train(model, data, new TrainingOptions { LearningRate = 0 }));
        TestKit.Throws("InvalidLearningRate", () => Trainer.Train(model, data, new TrainingOptions { LearningRate = double.NaN }));
        TestKit.Throws("InvalidMomentum", () => Trainer.Train(model, data, new TrainingOptions { Optimizer = OptimizerKind.SGD, Momentum = 1 }));
        TestKit.Throws("MomentumNeedsSgd", () => Trainer.Train(model, data, new TrainingOptions { Momentum = 0.9 }));
        TestKit.Throws("InvalidWeightDecay", () => Trainer.Train(model, data, new TrainingOptions { WeightDecay = -1 }));
        TestKit.Throws("InvalidL1", () => Trainer.Train(model, data, new TrainingOptions { L1 = double.PositiveInfinity }));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void FineTuneWithoutDataIsRejectedBeforePruning()
    {
        var model = Mlp.Create(new[] { 8, 6, 3 }, seed: 74);
        var before = TestKit.Snap(model);
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 });
        TestKit.Throws("NoDataset", () => Pruner.Apply(model, plan, null, fineTuneEpochs: 2));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void FailedFineTuneRollsBackThePruning()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 75);
        var before = TestKit.Snap(model);
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 });
        TestKit.Throws("TrainingDiverged", () => Pruner.Apply(model, plan, TestKit.Digits, fineTuneEpochs: 2,
            new TrainingOptions { Optimizer = OptimizerKind.SGD, LearningRate = 1e30, Seed = 1 }));
        TestKit.SameState(before, model);
        Assert.Null(model.Baseline);
        Assert.Empty(model.History);
    }

    [Fact]
    public void PredictRejectsNonFiniteInputs()
    {
        var model = Mlp.Create(new[] { 3, 4, 2 }, seed: 76);
        TestKit.Throws("InvalidInputValue", () => Predictor.Predict(model, new[] { 1f, float.NaN, 0f }, 1));
        TestKit.Throws("InvalidInputValue", () => Predictor.Predict(model, new[] { 1f, 2f, float.PositiveInfinity }, 1));
        Assert.Empty(Predictor.Predict(model, Array.Empty<float>(), 0));
    }
}
