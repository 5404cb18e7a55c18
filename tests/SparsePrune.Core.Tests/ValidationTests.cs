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
        Trainer.Train(model, H.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        H.Sparsify(model, 0.3, data: H.Digits);
        H.Prune(model, 0.1);
        return model;
    }

    [Fact]
    public void OneWidthIsTooFewLayers()
    {
        H.Throws("TooFewLayers", () => Mlp.Create(new[] { 10 }));
        H.Throws("TooFewLayers", () => Mlp.Create(Array.Empty<int>()));
        H.Throws("TooFewLayers", () => Mlp.Create(null!));
    }

    [Theory]
    [InlineData(new[] { 10, 0, 3 })]
    [InlineData(new[] { 10, -5, 3 })]
    [InlineData(new[] { 0, 5, 3 })]
    [InlineData(new[] { 10, 5, -1 })]
    [InlineData(new[] { 10, 2_000_000, 3 })]
    public void ZeroNegativeOrHugeWidthIsInvalidLayerWidth(int[] widths)
    {
        var e = H.Throws("InvalidLayerWidth", () => Mlp.Create(widths));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void ClassifierNeedsTwoOutputs()
    {
        H.Throws("ClassificationNeedsTwoOutputs", () => Mlp.Create(new[] { 4, 1 }, task: TaskKind.Classification));
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
        var before = H.Snap(model);
        H.Throws("InvalidSparsity", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = s }));
        H.SameState(before, model);
    }

    [Fact]
    public void OtherSparsityRequestErrors()
    {
        var model = UsedModel();
        var before = H.Snap(model);
        H.Throws("SparsityTargetRequired", () => Sparsifier.Plan(model, new SparsityRequest()));
        H.Throws("SparsityTargetRequired", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Threshold = 0.1 }));
        H.Throws("InvalidThreshold", () => Sparsifier.Plan(model, new SparsityRequest { Threshold = -1 }));
        H.Throws("LayerOutOfRange", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Layers = new[] { 2 } }));
        H.Throws("DuplicateLayer", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Layers = new[] { 0, 0 } }));
        H.Throws("LayerOutOfRange", () => model.GetWeight(5));
        H.SameState(before, model);
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
        var before = H.Snap(model);
        H.Throws("InvalidRatio", () => Pruner.Plan(model, new PruningRequest { Ratio = r, Structure = structure }));
        H.SameState(before, model);
    }

    [Fact]
    public void DataWithADifferentFeatureCountIsRejectedEverywhere()
    {
        var model = UsedModel();
        var before = H.Snap(model);
        var iris = H.Iris;
        H.Throws("FeatureCountMismatch", () => Trainer.Train(model, iris, new TrainingOptions { Epochs = 1 }));
        H.SameState(before, model);
        H.Throws("FeatureCountMismatch", () => Evaluator.Evaluate(model, iris));
        H.Throws("FeatureCountMismatch", () => CompressionReport.Create(model, iris));
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 }))
            H.Throws("FeatureCountMismatch", () => Pruner.Apply(model, plan, iris));
        H.SameState(before, model);
        H.Throws("FeatureCountMismatch", () => Predictor.Predict(model, new float[10], 1));
        H.SameState(before, model);
    }

    [Fact]
    public void TaskAndClassMismatchesAreRejected()
    {
        var classifier = Mlp.Create(new[] { 10, 4, 3 }, seed: 72);
        var before = H.Snap(classifier);
        H.Throws("TaskMismatch", () => Trainer.Train(classifier, H.Synthetic, new TrainingOptions { Epochs = 1 }));
        H.SameState(before, classifier);
        var wrongClasses = Mlp.Create(new[] { 4, 4, 5 }, seed: 73);
        H.Throws("ClassCountMismatch", () => Trainer.Train(wrongClasses, H.Iris, new TrainingOptions { Epochs = 1 }));
    }

    [Fact]
    public void BadTrainingOptionsAreRejectedBeforeAnythingChanges()
    {
        var model = UsedModel();
        var before = H.Snap(model);
        var data = H.Digits;
        H.Throws("InvalidEpochs", () => Trainer.Train(model, data, new TrainingOptions { Epochs = -1 }));
        H.Throws("InvalidBatchSize", () => Trainer.Train(model, data, new TrainingOptions { BatchSize = 0 }));
        H.Throws("InvalidLearningRate", () => Trainer.Train(model, data, new TrainingOptions { LearningRate = 0 }));
        H.Throws("InvalidLearningRate", () => Trainer.Train(model, data, new TrainingOptions { LearningRate = double.NaN }));
        H.Throws("InvalidMomentum", () => Trainer.Train(model, data, new TrainingOptions { Optimizer = OptimizerKind.SGD, Momentum = 1 }));
        H.Throws("MomentumNeedsSgd", () => Trainer.Train(model, data, new TrainingOptions { Momentum = 0.9 }));
        H.Throws("InvalidWeightDecay", () => Trainer.Train(model, data, new TrainingOptions { WeightDecay = -1 }));
        H.Throws("InvalidL1", () => Trainer.Train(model, data, new TrainingOptions { L1 = double.PositiveInfinity }));
        H.SameState(before, model);
    }

    [Fact]
    public void FineTuneWithoutDataIsRejectedBeforePruning()
    {
        var model = Mlp.Create(new[] { 8, 6, 3 }, seed: 74);
        var before = H.Snap(model);
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 });
        H.Throws("NoDataset", () => Pruner.Apply(model, plan, null, fineTuneEpochs: 2));
        H.SameState(before, model);
    }

    [Fact]
    public void FailedFineTuneRollsBackThePruning()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 75);
        var before = H.Snap(model);
        using var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 });
        H.Throws("TrainingDiverged", () => Pruner.Apply(model, plan, H.Digits, fineTuneEpochs: 2,
            new TrainingOptions { Optimizer = OptimizerKind.SGD, LearningRate = 1e30, Seed = 1 }));
        H.SameState(before, model);
        Assert.Null(model.Baseline);
        Assert.Empty(model.History);
    }

    [Fact]
    public void PredictRejectsNonFiniteInputs()
    {
        var model = Mlp.Create(new[] { 3, 4, 2 }, seed: 76);
        H.Throws("InvalidInputValue", () => Predictor.Predict(model, new[] { 1f, float.NaN, 0f }, 1));
        H.Throws("InvalidInputValue", () => Predictor.Predict(model, new[] { 1f, 2f, float.PositiveInfinity }, 1));
        Assert.Empty(Predictor.Predict(model, Array.Empty<float>(), 0));
    }
}
