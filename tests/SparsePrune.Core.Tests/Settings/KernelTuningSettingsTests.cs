using Xunit;

namespace SparsePrune.Tests;

/// <summary>Optimize-Mlp's timing settings: defaults from the published table, given values kept.</summary>
public class KernelTuningSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var (batchSize, repeat) = new KernelTuningSettings().Resolve();
        Assert.Equal(KernelTuningSettings.Defaults["BatchSize"], batchSize);
        Assert.Equal(1, batchSize);
        Assert.Equal(KernelTuningSettings.Defaults["Repeat"], repeat);
        Assert.Equal(20, repeat);
    }

    [Fact]
    public void GivenValuesWin() =>
        Assert.Equal((64, 3), new KernelTuningSettings { BatchSize = 64, Repeat = 3 }.Resolve());
}
