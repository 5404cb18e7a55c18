using System.Buffers.Binary;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The sparse kernel's cache and raw memory: a cached kernel never outlives the weights it
/// copied (in-place sparsify steps, undone steps), raw memory is only reached for tensors of
/// the expected size, and the kernel refuses rows of the wrong width.
/// </summary>
public class CsrLayerTests
{
    /// <summary>A Digits model with its first two layers pruned to 60 %, running through the sparse kernel.</summary>
    private static Mlp PrunedOnSparseKernel()
    {
        var model = Mlp.Create(new[] { 64, 48, 32, 10 }, seed: 21);
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.6, Layers = new[] { 0, 1 } })) Pruner.Apply(model, plan, null);
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        return model;
    }

    /// <summary>The model's forward pass through the kernels it chooses against plain dense products of its weights.</summary>
    private static void AssertKernelMatchesWeights(Mlp model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = NativeCopy.Floats(TestKit.Digits.TestX.Take(64 * 5).ToArray(), new long[] { 5, 64 });
        Assert.True(model.State[0].UsesSparseKernel(5));
        var viaModel = model.Forward(x);
        var h = x;
        for (int i = 0; i < model.LayerCount; i++)
        {
            h = nn.functional.linear(h, model.State[i].Weight, model.State[i].Bias);
            if (i + 1 < model.LayerCount) h = nn.functional.relu(h);
        }
        Assert.True((viaModel - h).abs().max().item<float>() <= 1e-5, "the sparse kernel computed with weights the layer no longer has");
    }

    [Fact]
    public void SparsifyingInPlaceDropsTheCachedKernel()
    {
        var model = PrunedOnSparseKernel();
        AssertKernelMatchesWeights(model); // builds the CSR copies
        TestKit.Sparsify(model, 0.8, PruneScope.Global);
        AssertKernelMatchesWeights(model);
        TestKit.Sparsify(model, 0.3, PruneScope.Layer); // a lower target brings weights back from behind the mask
        AssertKernelMatchesWeights(model);
    }

    [Fact]
    public void AnUndoneSparsifyStepLeavesNoStaleKernel()
    {
        var model = PrunedOnSparseKernel();
        TestKit.Sparsify(model, 0.7, PruneScope.Global);
        AssertKernelMatchesWeights(model);
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.9, Scope = PruneScope.Global });
        // Fails after layer 1 is installed: layer 0's cache was built from the new values, then undone.
        plan.AfterInstall = layer =>
        {
            if (layer == 0) { using var s = NewDisposeScope(); using var g = no_grad(); model.Forward(NativeCopy.Floats(new float[64], new long[] { 1, 64 })); _ = model.State[0].Csr; }
            if (layer == 1) throw new InvalidOperationException("injected");
        };
        Assert.Throws<InvalidOperationException>(() => Sparsifier.Apply(model, plan, null));
        AssertKernelMatchesWeights(model);
    }

    [Fact]
    public void RawMemoryIsReachedOnlyForTensorsOfTheExpectedSize()
    {
        using var scope = NewDisposeScope();
        var t = zeros(3, 4);
        Assert.NotEqual(0, RawTensor.Address(t, ScalarType.Float32));
        Assert.NotEqual(0, RawTensor.Address(t, ScalarType.Float32, 12));
        Assert.Equal(0, RawTensor.Address(t, ScalarType.Float32, 13));
        Assert.Equal(0, RawTensor.Address(t, ScalarType.Bool, 12));
        Assert.Equal(0, RawTensor.Address(t.t(), ScalarType.Float32, 12)); // not contiguous
    }

    [Fact]
    public void TheKernelRefusesRowsOfTheWrongWidth()
    {
        using var scope = NewDisposeScope();
        var csr = CsrLayer.From(ones(4, 6), zeros(4));
        Assert.Throws<ArgumentException>(() => csr.Forward(ones(2, 5), 1));
        Assert.Throws<ArgumentException>(() => csr.Forward(ones(6), 1));
        Assert.Equal(new long[] { 2, 4 }, csr.Forward(ones(2, 6), 1).shape);
        Assert.False(CsrLayer.FitsShape(1L << 40, 4, 6));
    }

}
