using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace SparsePrune.Tests;

/// <summary>
/// Adam at the present connections only against the fused Adam on the dense weights with the
/// keep mask: the same weights after several whole steps (decay or none, vector and scalar
/// path, one and two threads, 50 to 99.9 % sparsity), and moments carried over a change of structure.
/// </summary>
public class SparseAdamTests
{
    [Theory]
    [InlineData(0.5, 0.0, true, 1)]
    [InlineData(0.9, 0.01, true, 2)]
    [InlineData(0.95, 0.0, false, 2)]
    [InlineData(0.99, 0.01, false, 1)]
    [InlineData(0.999, 0.0, true, 2)]
    public void SparseStepsEqualTheFusedAdamWithTheMask(double sparsity, double weightDecay, bool vectorized, int threads)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(17);
        int rows = 300, cols = 301; // 90,300 weights: two threads split the sparse update at low sparsity
        var mask = SparseLinearTests.Mask(rng, rows, cols, sparsity);
        var w = new Parameter(SparseLinearTests.Uniform(rng, rows, cols) * mask, requires_grad: true);
        var kernel = SparseLinear.From(mask, w);
        var adam = new SparseAdam(kernel.NonZeros) { Vectorized = vectorized };
        using var fused = new FusedAdam(new List<Tensor> { w }, weightDecay, threads, _ => mask);
        var positions = Enumerable.Range(0, kernel.NonZeros).Select(kernel.Position).ToArray();
        var sparseGrad = new float[kernel.NonZeros];
        var dense = new float[rows * cols];
        for (int step = 1; step <= 6; step++)
        {
            var g = SparseLinearTests.Uniform(rng, rows, cols) * (step % 2 == 0 ? 1f : 1e-3f);
            w.grad = g.clone();
            NativeCopy.ToArray(g, dense);
            for (int k = 0; k < positions.Length; k++) sparseGrad[k] = dense[positions[k]];
            fused.Step(0.01);
            adam.Step(kernel.Values, sparseGrad, step, 0.01, weightDecay, threads);
        }
        NativeCopy.ToArray(w.detach(), dense);
        double diff = 0;
        for (int k = 0; k < positions.Length; k++) diff = Math.Max(diff, Math.Abs(dense[positions[k]] - kernel.Values[k]));
        Assert.True(diff <= 1e-6, $"largest difference {diff}");
        // The fused moments at the present connections are the sparse ones.
        var m = new float[rows * cols];
        NativeCopy.ToArray(fused.Moments(0).M, m);
        for (int k = 0; k < positions.Length; k++) Assert.Equal(m[positions[k]], adam.M[k], 6);
    }

    [Fact]
    public void RemappingKeepsTheMomentsOfConnectionsThatStay()
    {
        var adam = new SparseAdam(3);
        adam.M[0] = 1; adam.M[1] = 2; adam.M[2] = 3;
        adam.V[0] = 4; adam.V[1] = 5; adam.V[2] = 6;
        adam.Remap(new long[] { 2, 5, 9 }, new long[] { 1, 5, 9, 12 });
        Assert.Equal(new float[] { 0, 2, 3, 0 }, adam.M);
        Assert.Equal(new float[] { 0, 5, 6, 0 }, adam.V);
    }

    [Fact]
    public void AStepRefusesArraysOfAnotherLength()
    {
        var adam = new SparseAdam(4);
        Assert.Throws<ArgumentException>(() => adam.Step(new float[3], new float[4], 1, 0.01, 0, 1));
    }
}
