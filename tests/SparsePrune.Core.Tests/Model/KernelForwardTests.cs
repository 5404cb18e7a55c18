using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Inference through the module's own kernels (<see cref="KernelForward"/>) against LibTorch's
/// layer-by-layer forward of the same weights: every activation (those with a managed form and
/// those LibTorch applies), dense and sparse layers, one row and batches of odd sizes; and the
/// packed copy of a dense weight never outliving the weights it copied.
/// </summary>
public class KernelForwardTests
{
    private static Tensor Reference(Mlp model, Tensor x)
    {
        var h = x;
        for (int i = 0; i < model.LayerCount; i++)
        {
            h = nn.functional.linear(h, model.State[i].Weight, model.State[i].Bias);
            if (i + 1 < model.LayerCount) h = model.Activation.Forward(h);
        }
        return h;
    }

    private static void AssertMatchesLibTorch(Mlp model, int batch, int seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var g = new TorchSharp.torch.Generator((ulong)seed);
        var x = randn(new long[] { batch, model.InputFeatures }, generator: g);
        var expected = Reference(model, x);
        var actual = model.Forward(x);
        Assert.Equal(expected.shape, actual.shape);
        double worst = (expected - actual).abs().max().item<float>();
        Assert.True(worst <= 2e-5, $"{model.Activation} batch {batch}: differs from LibTorch by {worst}");
    }

    [Theory]
    [InlineData("ReLU")]
    [InlineData("LeakyReLU")]
    [InlineData("Identity")]
    [InlineData("Tanh")]
    [InlineData("GELU")]
    [InlineData("Softplus")]
    public void EveryActivationMatchesLibTorch(string activation)
    {
        var model = Mlp.Create(new[] { 37, 50, 23, 7 }, Activation.Create(activation), seed: 4);
        foreach (int batch in new[] { 1, 3, 13, 129 }) AssertMatchesLibTorch(model, batch, batch);
    }

    [Fact]
    public void SparseAndDenseLayersTogetherMatchLibTorch()
    {
        var model = Mlp.Create(new[] { 64, 96, 48, 10 }, seed: 8);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.9, Layers = new[] { 0 } })) Pruner.Apply(model, plan, null);
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        Assert.True(model.State[0].UsesSparseKernel(5));
        Assert.False(model.State[1].UsesSparseKernel(5));
        foreach (int batch in new[] { 1, 5, 64 }) AssertMatchesLibTorch(model, batch, batch);
    }

    [Fact]
    public void ThePackedWeightFollowsInPlaceChanges()
    {
        var model = Mlp.Create(new[] { 64, 48, 32, 10 }, seed: 21);
        AssertMatchesLibTorch(model, 5, 1); // packs the dense weights
        TestKit.Sparsify(model, 0.8, PruneScope.Global);
        AssertMatchesLibTorch(model, 5, 2);
        TestKit.Sparsify(model, 0.3, PruneScope.Layer); // weights come back from behind the mask
        AssertMatchesLibTorch(model, 5, 3);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        AssertMatchesLibTorch(model, 5, 4);
    }
}
