using Xunit;

namespace SparsePrune.Tests;

/// <summary>Measure-LayerSensitivity's settings: defaults from the published table, given values kept.</summary>
public class SensitivitySettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var job = new SensitivitySettings().Resolve();
        Assert.Equal((IEnumerable<double>)SensitivitySettings.Defaults["Ratio"], job.Levels);
        Assert.Equal(new[] { 0.5, 0.8, 0.9, 0.95 }, job.Levels);
        Assert.Equal(SensitivitySettings.Defaults["Structure"], job.Structure);
        Assert.Equal(PruneStructure.Connection, job.Structure);
        Assert.Equal(SensitivitySettings.Defaults["Criterion"], job.Criterion);
        Assert.Equal(PruneCriterion.L1, job.Criterion);
        Assert.Equal(SensitivitySettings.Defaults["ValidationFraction"], job.ValidationFraction);
        Assert.Null(job.Seed);
    }

    [Fact]
    public void GivenValuesWinAndTheDefaultLevelsCannotBeChangedThroughAJob()
    {
        var job = new SensitivitySettings { Ratio = new[] { 0.3 }, Structure = PruneStructure.Neuron, Criterion = PruneCriterion.Taylor, ValidationFraction = 0.2, Seed = 7 }.Resolve();
        Assert.Equal(new[] { 0.3 }, job.Levels);
        Assert.Equal((PruneStructure.Neuron, PruneCriterion.Taylor, 0.2, (int?)7), (job.Structure, job.Criterion, job.ValidationFraction, job.Seed));
        new SensitivitySettings().Resolve().Levels[0] = 0.1;
        Assert.Equal(new[] { 0.5, 0.8, 0.9, 0.95 }, SensitivityAnalysis.DefaultLevels);
    }
}
