using Xunit;

namespace SparsePrune.Tests;

/// <summary>Invoke-Quantization's settings: every default filled in from the published table, every rule's error.</summary>
public class QuantizationSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var job = new QuantizationSettings().Resolve();
        var d = QuantizationSettings.Defaults;
        Assert.Equal(d["Method"], job.Request.Method);
        Assert.Equal(d["FineTuneEpochs"], job.FineTuneEpochs);
        Assert.Equal(d["BatchSize"], job.Training.BatchSize);
        Assert.Equal(d["FineTuneLearningRate"], job.Training.EffectiveLearningRate);
        Assert.Null(job.Training.Seed);
        Assert.Null(job.Training.Distillation);
        // The bits text names the values the request really uses for each method.
        Assert.All(job.Request.BitsPerLayer(3), b => Assert.Equal(QuantizationRequest.DefaultKMeansBits, b));
        var linear = new QuantizationSettings { Method = QuantizationMethod.Linear }.Resolve().Request;
        Assert.All(linear.BitsPerLayer(3), b => Assert.Equal(QuantizationRequest.DefaultLinearBits, b));
        Assert.Equal("5 (KMeans), 8 (Linear) or 4 (PowerOfTwo)", d["Bits"]);
    }

    [Fact]
    public void GivenValuesWin()
    {
        var job = new QuantizationSettings
        {
            Method = QuantizationMethod.KMeans, Bits = new[] { 3 }, FineTuneEpochs = 2, FineTuneLearningRate = 0.01, BatchSize = 16, Seed = 9,
        }.Resolve();
        Assert.Equal(new[] { 3 }, job.Request.Bits);
        Assert.Equal(2, job.FineTuneEpochs);
        Assert.Equal((0.01, 16, (int?)9), (job.Training.EffectiveLearningRate, job.Training.BatchSize, job.Training.Seed));
    }

    [Fact]
    public void ATeacherNeedsFineTuning()
    {
        var teacher = Mlp.Create(new[] { 4, 3, 2 }, seed: 1);
        var e = TestKit.Throws("ParameterNotApplicable", () => new QuantizationSettings { Teacher = teacher }.Resolve());
        Assert.Contains("-FineTuneEpochs", e.Message);
        TestKit.Throws("ParameterNotApplicable", () => new QuantizationSettings { Teacher = teacher, FineTuneEpochs = 0 }.Resolve());
        var distillation = new QuantizationSettings { Teacher = teacher, FineTuneEpochs = 1 }.Resolve().Training.Distillation;
        Assert.Same(teacher, distillation!.Teacher);
        Assert.Equal(QuantizationSettings.Defaults["Temperature"], distillation.Temperature);
    }

    [Fact]
    public void DistillationSettingsWithoutATeacherDoNotApply()
    {
        var e = TestKit.Throws("ParameterNotApplicable", () => new QuantizationSettings { FineTuneEpochs = 1, Temperature = 2 }.Resolve());
        Assert.Contains("-Teacher", e.Message);
    }
}
