using Xunit;

namespace SparsePrune.Tests;

/// <summary>Invoke-PruningSweep's run settings: the seed default, the shard, the threads of each worker.</summary>
public class SweepSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var job = new SweepSettings().Resolve();
        Assert.Equal(SweepSettings.Defaults["Seed"], job.Seed);
        Assert.Equal((0, 1), (job.Shard, job.Shards));
        Assert.Equal(0, job.ThreadsPerWorker); // the session's threads as they are
    }

    [Theory]
    [InlineData(3, 8, 2)]
    [InlineData(16, 8, 1)]
    [InlineData(1, 4, 4)]
    public void WorkerProcessesSplitTheCores(int workers, int cores, int threads) =>
        Assert.Equal(threads, new SweepSettings { ThrottleLimit = workers, ProcessorCount = cores }.Resolve().ThreadsPerWorker);

    [Fact]
    public void GivenValuesWin()
    {
        var job = new SweepSettings { Seed = 5, Shard = " 1 / 3 ", ThrottleLimit = 2, ProcessorCount = 8, ThreadsPerWorker = 3 }.Resolve();
        Assert.Equal((5, 1, 3, 3), (job.Seed, job.Shard, job.Shards, job.ThreadsPerWorker));
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("0/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void ABadShardIsRefused(string shard)
    {
        var e = TestKit.Throws("InvalidShard", () => new SweepSettings { Shard = shard }.Resolve());
        Assert.Contains("i/n", e.Message);
    }
}
