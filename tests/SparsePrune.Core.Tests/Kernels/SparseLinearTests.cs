using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The sparse training kernel against LibTorch's dense masked product (linear of x and W·mask)
/// and autograd's gradients of it: forward, input gradient, weight gradient at the present
/// connections and bias gradient, at 50 to 99.9 % sparsity, on odd shapes and batch sizes,
/// through the vector path and the forced scalar one, with one and two threads.
/// </summary>
public class SparseLinearTests
{
    public static IEnumerable<object[]> Cases()
    {
        var shapes = new (int Rows, int Cols, int Batch)[] { (1, 1, 1), (13, 7, 3), (7, 13, 129), (64, 100, 1), (96, 200, 70), (40, 33, 16) };
        foreach (var sparsity in new[] { 0.5, 0.9, 0.95, 0.99, 0.999 })
            foreach (var (r, c, b) in shapes)
                foreach (var vectorized in new[] { true, false })
                    yield return new object[] { r, c, b, sparsity, vectorized };
    }

    internal static Tensor Uniform(Random rng, params long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return NativeCopy.Floats(v, shape);
    }

    internal static Tensor Mask(Random rng, int rows, int cols, double sparsity)
    {
        var v = new float[(long)rows * cols];
        for (long i = 0; i < v.LongLength; i++) v[i] = rng.NextDouble() >= sparsity ? 1f : 0f;
        return NativeCopy.Floats(v, new long[] { rows, cols });
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (expected.numel() == 0) return;
        double scale = 1 + expected.abs().max().item<float>();
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 2e-5 * scale, $"{what}: largest difference {diff} (scale {scale})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryProductMatchesTheDenseMaskedReference(int rows, int cols, int batch, double sparsity, bool vectorized)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(rows * 7919 + cols * 31 + batch + (int)(sparsity * 1000));
        var mask = Mask(rng, rows, cols, sparsity);
        var w = Uniform(rng, rows, cols) * mask;
        var bias = Uniform(rng, rows);
        var x = Uniform(rng, batch, cols);
        var dy = Uniform(rng, batch, rows);

        // The reference: LibTorch's dense product of the masked weights, and autograd's gradients.
        var xr = x.clone().requires_grad_(true);
        var wr = w.clone().requires_grad_(true);
        var br = bias.clone().requires_grad_(true);
        var yr = nn.functional.linear(xr, wr * mask, br);
        yr.backward(new[] { dy });

        var kernel = SparseLinear.From(mask, w);
        kernel.Vectorized = vectorized;
        Assert.Equal(mask.sum().item<float>(), kernel.NonZeros);
        var results = new List<(Tensor Y, Tensor Dx, Tensor Db, float[] Dw)>();
        foreach (int threads in new[] { 1, 2 })
        {
            var xt = new float[cols * batch];
            var dyt = new float[rows * batch];
            var dw = new float[kernel.NonZeros];
            var y = kernel.Forward(x, bias, xt, threads);
            var (dx, db) = kernel.Backward(dy, xt, dyt, inputGradient: true, dw, threads);
            AssertClose(yr.detach(), y, "forward");
            AssertClose(xr.grad!, dx!, "input gradient");
            AssertClose(br.grad!, db, "bias gradient");
            // The weight gradient at the present connections, scattered back to the dense shape.
            var dense = new float[rows * cols];
            for (int k = 0; k < dw.Length; k++) dense[kernel.Position(k)] = dw[k];
            AssertClose(wr.grad! * mask, NativeCopy.Floats(dense, new long[] { rows, cols }), "weight gradient");
            results.Add((y, dx!, db, dw));
        }
        // One order of summation per output whatever the thread count: the same bits.
        Assert.True(results[0].Y.equal(results[1].Y).all().item<bool>());
        Assert.True(results[0].Dx.equal(results[1].Dx).all().item<bool>());
        Assert.Equal(results[0].Dw, results[1].Dw);
    }

    [Fact]
    public void TheScalarPathGivesTheVectorPathsResults()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        var mask = Mask(rng, 50, 70, 0.8);
        var w = Uniform(rng, 50, 70) * mask;
        var x = Uniform(rng, 129, 70);
        var bias = Uniform(rng, 50);
        var vector = SparseLinear.From(mask, w);
        var scalar = SparseLinear.From(mask, w);
        scalar.Vectorized = false;
        var a = vector.Forward(x, bias, new float[70 * 129], 2);
        var b = scalar.Forward(x, bias, new float[70 * 129], 2);
        AssertClose(a, b, "scalar against vector");
    }

    [Fact]
    public void ThePresentStructureIsTheMasksNotTheNonZeros()
    {
        using var scope = NewDisposeScope();
        // A present weight at zero (a regrown one) is still trained: it has a place and a gradient.
        var mask = tensor(new float[] { 1, 0, 1, 1 }, new long[] { 2, 2 });
        var w = tensor(new float[] { 0, 0, 2, 0 }, new long[] { 2, 2 });
        var kernel = SparseLinear.From(mask, w);
        Assert.Equal(3, kernel.NonZeros);
        Assert.Equal(new long[] { 0, 2, 3 }, Enumerable.Range(0, 3).Select(kernel.Position).ToArray());
        var dw = new float[3];
        var xt = new float[2];
        kernel.Forward(tensor(new float[] { 1, 1 }, new long[] { 1, 2 }), zeros(2), xt, 1);
        kernel.Backward(ones(1, 2), xt, new float[2], true, dw, 1);
        Assert.Equal(new float[] { 1, 1, 1 }, dw);
    }

    [Fact]
    public void TheKernelRefusesRowsOfTheWrongWidth()
    {
        using var scope = NewDisposeScope();
        var kernel = SparseLinear.From(ones(4, 6), ones(4, 6));
        Assert.Throws<ArgumentException>(() => kernel.Forward(ones(2, 5), zeros(4), new float[12], 1));
        Assert.Throws<ArgumentException>(() => kernel.Backward(ones(2, 5), new float[12], new float[8], true, new float[24], 1));
        Assert.Throws<ArgumentException>(() => SparseLinear.From(ones(4, 5), ones(4, 6)));
    }
}
