using Xunit;

namespace SparsePrune.Tests;

/// <summary>Invoke-Training's settings: every default filled in from the published table, every rule's error.</summary>
public class TrainingSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var options = new TrainingSettings().Resolve();
        var d = TrainingSettings.Defaults;
        Assert.Equal(d["Epochs"], options.Epochs);
        Assert.Equal(d["BatchSize"], options.BatchSize);
        Assert.Equal(d["Optimizer"], options.Optimizer);
        Assert.Equal(d["Momentum"], options.Momentum);
        Assert.Equal(d["WeightDecay"], options.WeightDecay);
        Assert.Equal(d["L1"], options.L1);
        Assert.Equal(d["LearningRateSchedule"], options.LearningRateSchedule);
        Assert.Equal(TrainingOptions.AdamLearningRate, options.EffectiveLearningRate);
        Assert.Null(options.Seed);
        Assert.Null(options.Distillation);
        Assert.False(options.Dequantize);
        Assert.Equal(10, options.Epochs); // the documented value, so a changed default is a decision, not an accident
        Assert.Equal(64, options.BatchSize);
    }

    [Fact]
    public void GivenValuesWin()
    {
        var options = new TrainingSettings
        {
            Epochs = 3, BatchSize = 8, Optimizer = OptimizerKind.SGD, Momentum = 0.9, WeightDecay = 0.01, L1 = 0.001,
            LearningRateSchedule = LearningRateSchedule.Cosine, Seed = 5, Dequantize = true,
        }.Resolve();
        Assert.Equal((3, 8, OptimizerKind.SGD, 0.9, 0.01, 0.001), (options.Epochs, options.BatchSize, options.Optimizer, options.Momentum, options.WeightDecay, options.L1));
        Assert.Equal(LearningRateSchedule.Cosine, options.LearningRateSchedule);
        Assert.Equal(TrainingOptions.SgdLearningRate, options.EffectiveLearningRate);
        Assert.Equal(5, options.Seed);
        Assert.True(options.Dequantize);
    }

    [Fact]
    public void ATeacherGetsTheDistillationDefaults()
    {
        var teacher = Mlp.Create(new[] { 4, 3, 2 }, seed: 1);
        var distillation = new TrainingSettings { Teacher = teacher }.Resolve().Distillation;
        Assert.NotNull(distillation);
        Assert.Same(teacher, distillation!.Teacher);
        Assert.Equal(TrainingSettings.Defaults["Temperature"], distillation.Temperature);
        Assert.Equal(TrainingSettings.Defaults["DistillationWeight"], distillation.Weight);
    }

    [Fact]
    public void DistillationSettingsWithoutATeacherDoNotApply()
    {
        var e = TestKit.Throws("ParameterNotApplicable", () => new TrainingSettings { Temperature = 2 }.Resolve());
        Assert.Contains("-Teacher", e.Message);
        TestKit.Throws("ParameterNotApplicable", () => new TrainingSettings { DistillationWeight = 0.5 }.Resolve());
    }

    [Fact]
    public void BadValuesAreRefusedWithTheirIds()
    {
        TestKit.Throws("InvalidEpochs", () => new TrainingSettings { Epochs = -1 }.Resolve());
        TestKit.Throws("InvalidBatchSize", () => new TrainingSettings { BatchSize = 0 }.Resolve());
        TestKit.Throws("MomentumNeedsSgd", () => new TrainingSettings { Momentum = 0.5 }.Resolve());
    }
}
