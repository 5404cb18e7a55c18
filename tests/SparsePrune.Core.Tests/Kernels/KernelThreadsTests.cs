using Xunit;

namespace SparsePrune.Tests;

/// <summary>The kernels' thread pool: every part runs exactly once, failures surface, and loops from several threads at once all complete.</summary>
public class KernelThreadsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void RunsEveryPartOnce(int parts)
    {
        for (int round = 0; round < 200; round++)
        {
            var runs = new int[parts];
            KernelThreads.For(parts, p => Interlocked.Increment(ref runs[p]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void AFailingPartIsRethrownAfterTheOthersFinish()
    {
        var runs = new int[4];
        var e = Assert.Throws<InvalidOperationException>(() => KernelThreads.For(4, p =>
        {
            Interlocked.Increment(ref runs[p]);
            if (p == 2) throw new InvalidOperationException("part 2");
        }));
        Assert.Equal("part 2", e.Message);
        Assert.All(runs, r => Assert.Equal(1, r));
        // The pool is usable again after a failure.
        var after = new int[3];
        KernelThreads.For(3, p => after[p]++);
        Assert.All(after, r => Assert.Equal(1, r));
    }

    [Fact]
    public void LoopsFromSeveralThreadsAndNestedLoopsAllComplete()
    {
        long total = 0;
        Parallel.For(0, 8, _ =>
        {
            for (int round = 0; round < 100; round++)
                KernelThreads.For(3, p => KernelThreads.For(2, q => Interlocked.Increment(ref total)));
        });
        Assert.Equal(8L * 100 * 3 * 2, total);
    }
}
