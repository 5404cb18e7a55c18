using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace SparsePrune.Tests;

/// <summary>
/// Training through the sparse kernels: the autograd node gives autograd's gradients of the dense
/// masked product (input, bias, weights at present connections, the dense weight gradient on a
/// hook's step); whole runs with and without the sparse path end at the same weights; a RigL
/// update leaves no stale sparse copy behind (masked weights stay 0, counts hold, the same weights
/// as the dense path); a failed run changes nothing.
/// </summary>
public class SparseTrainingTests
{
    private static float[] AllParameters(Mlp m) =>
        Enumerable.Range(0, m.LayerCount).SelectMany(l => TestKit.W(m, l).Concat(m.GetBias(l))).ToArray();

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs(p.First - p.Second));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheAutogradNodeGivesTheDenseMaskedGradients(bool vectorized)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(3);
        var mask0 = SparseLinearTests.Mask(rng, 30, 20, 0.9);
        var mask1 = SparseLinearTests.Mask(rng, 5, 30, 0.5);
        var w0 = new Parameter(SparseLinearTests.Uniform(rng, 30, 20) * mask0, requires_grad: true);
        var w1 = new Parameter(SparseLinearTests.Uniform(rng, 5, 30) * mask1, requires_grad: true);
        var b0 = new Parameter(SparseLinearTests.Uniform(rng, 30), requires_grad: true);
        var b1 = new Parameter(SparseLinearTests.Uniform(rng, 5), requires_grad: true);
        var x = SparseLinearTests.Uniform(rng, 17, 20);
        var target = tensor(Enumerable.Range(0, 17).Select(i => (long)(i % 5)).ToArray());

        // Reference: LibTorch's products of the masked weights, as leaves (their gradient is the
        // dense one, masked places included: what a hook reads).
        var rw0 = w0.detach().clone().requires_grad_(true);
        var rw1 = w1.detach().clone().requires_grad_(true);
        var rb0 = b0.detach().clone().requires_grad_(true);
        var rb1 = b1.detach().clone().requires_grad_(true);
        nn.functional.cross_entropy(nn.functional.linear(nn.functional.relu(nn.functional.linear(x, rw0, rb0)), rw1, rb1), target).backward();

        var s0 = new SparseTrainedLayer(mask0, w0, 2) { Vectorized = vectorized };
        var s1 = new SparseTrainedLayer(mask1, w1, 2) { Vectorized = vectorized, DenseGradient = true };
        // The first layer's input needs no gradient (the node returns none); the second's does.
        nn.functional.cross_entropy(s1.Forward(nn.functional.relu(s0.Forward(x, b0)), b1), target).backward();

        Assert.True((rb0.grad! - b0.grad!).abs().max().item<float>() < 1e-6);
        Assert.True((rb1.grad! - b1.grad!).abs().max().item<float>() < 1e-6);
        foreach (var (s, r, m) in new[] { (s0, rw0, mask0), (s1, rw1, mask1) })
        {
            var dense = new float[r.numel()];
            NativeCopy.ToArray(r.grad!, dense);
            var positions = s.Kernel.Positions();
            for (int k = 0; k < positions.Length; k++) Assert.True(Math.Abs(dense[positions[k]] - s.Gradient[k]) < 1e-6, $"weight gradient {k}");
        }
        // A hook's step: the dense gradient of every weight, masked ones included.
        Assert.True((rw1.grad! - w1.grad!).abs().max().item<float>() < 1e-6);
        Assert.Null(w0.grad);
        s1.ReleaseDenseGradient();
        Assert.Null(w1.grad);
    }

    [Fact]
    public void ARebuildTakesTheNewMaskAndKeepsTheMomentsOfConnectionsThatStay()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new float[] { 1, 0, 1, 0, 1, 1 }, new long[] { 2, 3 });
        var w = new Parameter(tensor(new float[] { 1, 0, 2, 0, 3, 4 }, new long[] { 2, 3 }), requires_grad: true);
        var layer = new SparseTrainedLayer(mask, w, 1);
        layer.Adam.M[0] = 10; layer.Adam.M[1] = 20; layer.Adam.M[2] = 30; layer.Adam.M[3] = 40;
        // The update drops position 2 and regrows position 3 (at 0), as RigL does.
        using (no_grad()) w.copy_(tensor(new float[] { 1, 0, 0, 0, 3, 4 }, new long[] { 2, 3 }));
        layer.Rebuild(tensor(new float[] { 1, 0, 0, 1, 1, 1 }, new long[] { 2, 3 }));
        Assert.Equal(new long[] { 0, 3, 4, 5 }, layer.Kernel.Positions());
        Assert.Equal(new float[] { 1, 0, 3, 4 }, layer.Kernel.Values);
        Assert.Equal(new float[] { 10, 0, 30, 40 }, layer.Adam.M);
        Assert.Equal(4, layer.Gradient.Length);
    }

    private static Mlp Pruned(int seed, double sparsity)
    {
        var model = Mlp.Create(new[] { 64, 40, 30, 10 }, seed: seed);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, BatchSize = 32, Seed = 1 });
        TestKit.Sparsify(model, sparsity);
        return model;
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    public void RunsWithAndWithoutTheSparsePathEndAtTheSameWeights(double sparsity)
    {
        var dense = Pruned(61, sparsity);
        var sparse = dense.Clone();
        var options = new TrainingOptions { Epochs = 2, BatchSize = 50, Seed = 4, WeightDecay = 1e-4, Operation = "FineTune" };
        var rd = Trainer.Train(dense, TestKit.Digits, options with { Product = TrainingProduct.Dense });
        var rs = Trainer.Train(sparse, TestKit.Digits, options with { Product = TrainingProduct.Sparse });
        Assert.Contains("trained through the sparse kernels: layer 0, 1, 2", sparse.History[^1].Note);
        Assert.DoesNotContain("sparse kernels", dense.History[^1].Note ?? "");
        double diff = MaxDifference(AllParameters(dense), AllParameters(sparse));
        Assert.True(diff < 1e-3, $"largest weight difference {diff}");
        Assert.Equal(rd.Metric!.Value, rs.Metric!.Value, 2);
        for (int l = 0; l < dense.LayerCount; l++)
            Assert.Equal(TestKit.ZeroSet(TestKit.W(dense, l)), TestKit.ZeroSet(TestKit.W(sparse, l)));
    }

    [Fact]
    public void ARigLUpdateLeavesNoStaleSparseCopy()
    {
        var data = TestKit.Iris;
        Mlp Start()
        {
            var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 91);
            Trainer.Train(model, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 1 });
            model.EnsureBaseline(data);
            var request = new PruningRequest { Ratio = 0.8, Scope = PruneScope.ERK };
            RigLSchedule.MaskAtTargets(model, Pruner.LayerTargets(model, request), Pruner.InScope(model, request));
            return model;
        }
        var results = new List<(Mlp Model, RigLHook Hook)>();
        foreach (var product in new[] { TrainingProduct.Dense, TrainingProduct.Sparse })
        {
            var model = Start();
            var hook = new RigLHook(model, end: 30, every: 3, regrowFraction: 0.3);
            Trainer.Train(model, data, new TrainingOptions { Epochs = 6, BatchSize = 16, Seed = 2, Operation = "RigLPrune", Product = product }, null, default, hook);
            results.Add((model, hook));
        }
        var (denseModel, denseHook) = results[0];
        var (sparseModel, sparseHook) = results[1];
        try
        {
            Assert.Contains("sparse kernels", sparseModel.History[^1].Note);
            Assert.True(sparseHook.Updates.Sum(u => u.Moved.Sum()) > 0, "no weight moved");
            // The same regrowth as the dense path (its gradients were the dense ones), the same counts.
            Assert.Equal(denseHook.Updates.Select(u => u.Present), sparseHook.Updates.Select(u => u.Present));
            for (int l = 0; l < sparseModel.LayerCount; l++)
            {
                var keep = TestKit.Bools(sparseModel.State[l].Keep);
                Assert.Equal(TestKit.Bools(denseModel.State[l].Keep), keep);
                // A stale copy would have trained (and written back) weights at the old structure's places.
                var w = TestKit.W(sparseModel, l);
                for (int k = 0; k < w.Length; k++) if (!keep[k]) Assert.True(w[k] == 0f, $"layer {l} weight {k} is masked but {w[k]}");
            }
            double diff = MaxDifference(AllParameters(denseModel), AllParameters(sparseModel));
            Assert.True(diff < 1e-3, $"largest weight difference {diff}");
        }
        finally
        {
            denseHook.Dispose();
            sparseHook.Dispose();
        }
    }

    [Fact]
    public void ARunThatFailsAfterHookStepsChangesNothing()
    {
        // Layers trained sparse write their values into the layer's own weights on the steps a
        // hook reads them and at every update: a later failure must still leave the model as it was.
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 93);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 1 });
        model.EnsureBaseline(data);
        var request = new PruningRequest { Ratio = 0.8, Scope = PruneScope.ERK };
        RigLSchedule.MaskAtTargets(model, Pruner.LayerTargets(model, request), Pruner.InScope(model, request));
        var before = AllParameters(model);
        var masks = Enumerable.Range(0, model.LayerCount).Select(l => TestKit.Bools(model.State[l].Keep)).ToArray();
        int history = model.History.Count;
        using var hook = new RigLHook(model, end: 100, every: 1, regrowFraction: 0.3);
        TestKit.Throws("TrainingDiverged", () => Trainer.Train(model, data,
            new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 1e30, Seed = 2, Product = TrainingProduct.Sparse }, null, default, hook));
        Assert.True(hook.Updates.Count > 0, "no update ran before the failure");
        TestKit.BitEqual(before, AllParameters(model));
        for (int l = 0; l < model.LayerCount; l++) Assert.Equal(masks[l], TestKit.Bools(model.State[l].Keep));
        Assert.Equal(history, model.History.Count);
    }

    [Fact]
    public void AFailedSparseRunChangesNothing()
    {
        var model = Pruned(62, 0.9);
        var before = AllParameters(model);
        int history = model.History.Count;
        // Diverges: the learning rate is absurd; the transaction puts the model back.
        TestKit.Throws("TrainingDiverged", () => Trainer.Train(model, TestKit.Digits,
            new TrainingOptions { Epochs = 3, BatchSize = 50, LearningRate = 1e30, Seed = 4, Product = TrainingProduct.Sparse }));
        TestKit.BitEqual(before, AllParameters(model));
        Assert.Equal(history, model.History.Count);
    }
}
