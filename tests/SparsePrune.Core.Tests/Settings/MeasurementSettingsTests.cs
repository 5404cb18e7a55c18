using Xunit;

namespace SparsePrune.Tests;

/// <summary>Measure-Mlp's settings: defaults from the published table.</summary>
public class MeasurementSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var job = new MeasurementSettings().Resolve();
        Assert.False(job.Latency);
        Assert.Equal(MeasurementSettings.Defaults["Repeat"], job.Repeat);
        Assert.Equal(50, job.Repeat);
        var latency = new MeasurementSettings { Latency = true }.Resolve();
        Assert.Equal((IEnumerable<int>)MeasurementSettings.Defaults["BatchSize"], latency.BatchSizes);
        Assert.Equal(new[] { 1, 256 }, latency.BatchSizes);
        Assert.Equal(MeasurementSettings.Defaults["Warmup"], latency.Warmup);
    }

    [Fact]
    public void GivenValuesWinAndTheDefaultListCannotBeChangedThroughAJob()
    {
        var job = new MeasurementSettings { Latency = true, Repeat = 3, BatchSize = new[] { 8 }, Warmup = 0 }.Resolve();
        Assert.Equal((3, 0), (job.Repeat, job.Warmup));
        Assert.Equal(new[] { 8 }, job.BatchSizes);
        new MeasurementSettings { Latency = true }.Resolve().BatchSizes[0] = 99;
        Assert.Equal(new[] { 1, 256 }, MeasurementSettings.DefaultBatchSizes);
    }

    [Fact]
    public void BatchSettingsNeedLatency()
    {
        TestKit.Throws("ParameterNotApplicable", () => new MeasurementSettings { BatchSize = new[] { 8 } }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new MeasurementSettings { Warmup = 1 }.Resolve());
    }
}
