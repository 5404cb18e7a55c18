using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace SparsePrune.Tests;

/// <summary>
/// The fused Adam against TorchSharp's Adam: the same parameters after several steps (with and
/// without weight decay, sizes with and without a vector tail, one and two threads), masks
/// applied in the same pass, and a gradient it cannot reach in memory taking the tensor path.
/// </summary>
public class FusedAdamTests
{
    private static Tensor Values(long[] shape, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return tensor(Enumerable.Range(0, (int)n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray(), shape);
    }

    /// <summary>Runs <paramref name="steps"/> steps of both optimizers on the same values and gradients; returns the largest difference.</summary>
    private static double Compare(long[][] shapes, double weightDecay, int threads, int steps, Func<int, Tensor?>? masks = null)
    {
        using var scope = NewDisposeScope();
        var mine = shapes.Select((s, i) => new Parameter(Values(s, i), requires_grad: true)).ToList();
        var theirs = shapes.Select((s, i) => new Parameter(Values(s, i), requires_grad: true)).ToList();
        using var fused = new FusedAdam(mine.Cast<Tensor>().ToList(), weightDecay, threads, masks ?? (_ => null));
        using var reference = optim.Adam(theirs, 0.01, weight_decay: weightDecay);
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                var grad = Values(shapes[i], 100 * step + i, scale: step % 2 == 0 ? 1 : 1e-3);
                if (masks?.Invoke(i) is { } m) grad = grad * m; // the reference sees the gradients masked, as training once did
                mine[i].grad = grad.clone();
                theirs[i].grad = grad.clone();
            }
            fused.Step(0.01);
            reference.step();
            if (masks is not null)
                using (no_grad())
                    for (int i = 0; i < shapes.Length; i++) if (masks(i) is { } m) theirs[i].mul_(m);
        }
        return mine.Zip(theirs).Max(p => (p.First - p.Second).abs().max().item<float>());
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.0, 2)]
    [InlineData(0.01, 2)]
    public void FusedAdamTakesTheStepsTorchAdamTakes(double weightDecay, int threads)
    {
        var shapes = new[] { new long[] { 300, 784 }, new long[] { 300 }, new long[] { 10, 13 }, new long[] { 7 } };
        Assert.True(FusedAdam.Supports(shapes.Select(s => zeros(s))));
        double diff = Compare(shapes, weightDecay, threads, steps: 6);
        Assert.True(diff < 1e-6, $"largest difference {diff}");
    }

    [Fact]
    public void MasksAreAppliedInTheSamePass()
    {
        var shapes = new[] { new long[] { 40, 33 }, new long[] { 40 } };
        var mask = Values(shapes[0], 77).gt(0).to_type(ScalarType.Float32);
        double diff = Compare(shapes, 0.0, 2, steps: 5, masks: i => i == 0 ? mask : null);
        Assert.True(diff < 1e-6, $"largest difference {diff}");
        // And the masked weights are exactly zero.
        using var scope = NewDisposeScope();
        var p = new Parameter(Values(shapes[0], 1), requires_grad: true);
        using var fused = new FusedAdam(new List<Tensor> { p }, 0, 2, _ => mask);
        p.grad = Values(shapes[0], 2);
        fused.Step(0.1);
        Assert.Equal(0, (p * (1 - mask)).count_nonzero().item<long>());
    }

    [Fact]
    public void AGradientOutOfReachTakesTheTensorPath()
    {
        using var scope = NewDisposeScope();
        var a = new Parameter(Values(new long[] { 6, 5 }, 1), requires_grad: true);
        var b = new Parameter(Values(new long[] { 6, 5 }, 1), requires_grad: true);
        using var fused = new FusedAdam(new List<Tensor> { a }, 0, 1, _ => null);
        using var reference = optim.Adam(new[] { b }, 0.05);
        var g = Values(new long[] { 5, 6 }, 3);
        a.grad = g.t(); // not contiguous: no raw memory for it
        b.grad = g.t().contiguous();
        fused.Step(0.05);
        reference.step();
        Assert.True((a - b).abs().max().item<float>() < 1e-6);
    }
}
