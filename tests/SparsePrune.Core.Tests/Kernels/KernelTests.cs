using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The sparse (CSR) kernel against the dense product: equal within 1e-5 at every density and
/// batch size it serves, with empty rows; the kernel choice at inference; timing results.
/// </summary>
public class KernelTests
{
    /// <summary>
    /// A layer out × in with about <paramref name="sparsity"/> of its weights zero and row
    /// <paramref name="emptyRow"/> all zero; values at the scale of a trained layer (the
    /// initialization bound 1/sqrt(in)), so that outputs are of order 1 and 1e-5 is a fair
    /// absolute tolerance between two float32 summation orders.
    /// </summary>
    private static (Tensor W, Tensor B) Layer(int outF, int inF, double sparsity, int seed, int emptyRow = -1)
    {
        var rng = new Random(seed);
        var w = new float[outF * inF];
        for (int i = 0; i < w.Length; i++) w[i] = rng.NextDouble() < sparsity ? 0f : (float)((rng.NextDouble() * 2 - 1) / Math.Sqrt(inF));
        if (emptyRow >= 0) Array.Clear(w, emptyRow * inF, inF);
        var b = Enumerable.Range(0, outF).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        return (tensor(w, new long[] { outF, inF }), tensor(b));
    }

    private static Tensor Inputs(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        return tensor(Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(), new long[] { rows, cols });
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.95)]
    [InlineData(0.999)]
    public void SparseKernelEqualsDenseProduct(double sparsity)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Layer(300, 784, sparsity, seed: 7, emptyRow: 13);
        var csr = CsrLayer.From(w, b);
        Assert.Equal(w.count_nonzero().item<long>(), csr.NonZeros);
        // Batches that reach every tile: 64 and 16 rows, and rows one by one.
        foreach (int batch in new[] { 1, 2, 7, 16, 56, 64, 130 })
        {
            var x = Inputs(batch, 784, batch);
            var dense = nn.functional.linear(x, w, b);
            foreach (int threads in new[] { 1, 2 })
            {
                var sparse = csr.Forward(x, threads);
                Assert.Equal(dense.shape, sparse.shape);
                double diff = (dense - sparse).abs().max().item<float>();
                Assert.True(diff <= 1e-5, $"sparsity {sparsity}, batch {batch}, {threads} threads: max difference {diff}");
                // The fully pruned row gives its bias alone.
                Assert.Equal(b[13].item<float>(), sparse[0, 13].item<float>());
            }
        }
    }

    [Fact]
    public void AllZeroLayerGivesTheBias()
    {
        using var scope = NewDisposeScope();
        var (w, b) = Layer(5, 9, 1.0, seed: 1);
        var csr = CsrLayer.From(w, b);
        Assert.Equal(0, csr.NonZeros);
        var y = csr.Forward(Inputs(3, 9, 2), 2);
        for (int r = 0; r < 3; r++) Assert.Equal(TestKit.Floats(b), TestKit.Floats(y[r]));
    }

    [Fact]
    public void PrunedModelPredictsTheSameThroughEitherKernel()
    {
        var model = Mlp.Create(new[] { 64, 128, 64, 10 }, seed: 3);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.95 })) Pruner.Apply(model, plan, null);
        var raw = TestKit.Digits.TestX.Take(64 * 50).ToArray();
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        Assert.All(model.Layers, l => Assert.Equal(LayerKernel.Sparse, l.Kernel));
        Assert.True(model.State[0].UsesSparseKernel(50));
        var sparse = Predictor.Predict(model, raw, 50).Cast<ClassPrediction>().ToArray();
        KernelTuner.Apply(model, null, LayerKernel.Dense);
        Assert.False(model.State[0].UsesSparseKernel(1));
        var dense = Predictor.Predict(model, raw, 50).Cast<ClassPrediction>().ToArray();
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 10; c++)
                Assert.True(Math.Abs(sparse[i].Probabilities[c] - dense[i].Probabilities[c]) <= 1e-5, $"row {i} class {c}");
        Assert.Equal("Optimize", model.History[^1].Operation);
    }

    [Fact]
    public void CachedKernelFollowsTheWeights()
    {
        var model = Mlp.Create(new[] { 4, 30, 3 }, seed: 4);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 })) Pruner.Apply(model, plan, null);
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        var before = model.State[0].Csr;
        Assert.Same(before, model.State[0].Csr);
        Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1, Seed = 1 });
        var after = model.State[0].Csr;
        Assert.NotSame(before, after);
        using var scope = NewDisposeScope();
        var x = Inputs(4, 4, 5);
        using var noGrad = no_grad();
        var viaKernel = model.Forward(x);
        var viaDense = nn.functional.linear(nn.functional.relu(nn.functional.linear(x, model.State[0].Weight, model.State[0].Bias)), model.State[1].Weight, model.State[1].Bias);
        Assert.True((viaKernel - viaDense).abs().max().item<float>() <= 1e-5);
    }

    [Fact]
    public void DenseLayersNeverUseTheSparseKernel()
    {
        var model = Mlp.Create(new[] { 8, 6, 2 }, seed: 5);
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        Assert.All(model.Layers, l => Assert.Equal(LayerKernel.Dense, l.Kernel));
        Assert.False(model.State[0].UsesSparseKernel(1));
        Assert.Empty(KernelTuner.Optimize(model, 4, repeat: 2));
    }

    [Fact]
    public void OptimizeTimesEverySparseLayerAndKeepsTheFaster()
    {
        var model = Mlp.Create(new[] { 64, 128, 64, 10 }, seed: 6);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.9 })) Pruner.Apply(model, plan, null);
        var decisions = KernelTuner.Optimize(model, 8, repeat: 3);
        Assert.Equal(new[] { 0, 1, 2 }, decisions.Select(d => d.Layer));
        foreach (var d in decisions)
        {
            Assert.True(d.DenseMs > 0 && d.SparseMs > 0);
            Assert.Equal(d.SparseMs < d.DenseMs ? LayerKernel.Sparse : LayerKernel.Dense, d.Kernel);
            Assert.InRange(d.Density, 0.05, 0.15);
        }
        KernelTuner.Apply(model, decisions, batch: 8);
        Assert.Equal(decisions.Select(d => d.Kernel), model.Layers.Select(l => l.Kernel));
        Assert.Contains("BatchSize=8", model.History[^1].Settings.ToString());
    }

    [Fact]
    public void LatencyReportsEveryBatchSize()
    {
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 7);
        var rows = KernelTuner.MeasureLatency(model, new[] { 1, 16 }, TestKit.Digits, repeat: 7, warmup: 1);
        Assert.Equal(new[] { 1, 16 }, rows.Select(r => r.BatchSize));
        foreach (var r in rows)
        {
            Assert.Equal(7, r.Runs);
            Assert.InRange(r.MedianMs, r.MinMs, r.MaxMs);
            Assert.Equal(TorchSharp.torch.get_num_threads(), r.Threads);
            Assert.Equal(new[] { LayerKernel.Dense, LayerKernel.Dense }, r.Kernels);
        }
        TestKit.Throws("InvalidBatchSize", () => KernelTuner.MeasureLatency(model, new[] { 0 }));
        TestKit.Throws("FeatureCountMismatch", () => KernelTuner.MeasureLatency(model, new[] { 1 }, TestKit.Iris));
    }
}
