using System.Buffers.Binary;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The edges of the fast paths: a cached sparse kernel never outlives the weights it copied
/// (in-place sparsify steps, undone steps), raw memory is only reached for tensors of the
/// expected size, the kernel refuses rows of the wrong width, a file whose masks contradict
/// its weights is corrupt, and an undo that fails says so.
/// </summary>
public class HardeningTests
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
        var x = NativeCopy.Floats(H.Digits.TestX.Take(64 * 5).ToArray(), new long[] { 5, 64 });
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
        H.Sparsify(model, 0.8, PruneScope.Global);
        AssertKernelMatchesWeights(model);
        H.Sparsify(model, 0.3, PruneScope.Layer); // a lower target brings weights back from behind the mask
        AssertKernelMatchesWeights(model);
    }

    [Fact]
    public void AnUndoneSparsifyStepLeavesNoStaleKernel()
    {
        var model = PrunedOnSparseKernel();
        H.Sparsify(model, 0.7, PruneScope.Global);
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

    [Fact]
    public void AFileWhoseMaskedWeightIsNotZeroIsCorrupt()
    {
        var model = Mlp.Create(new[] { 6, 5, 3 }, seed: 4);
        H.Sparsify(model, 0.5, PruneScope.Layer);
        var bytes = SpmlpFormat.ToBytes(model);
        SpmlpFormat.FromBytes(bytes).State.ToList().ForEach(_ => { }); // the file as written is fine
        var layer = SpmlpV2.Parse(bytes).Layers[0];
        int masked = layer.Masked!.Positions[0];
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(layer.ValuesOffset + 4 * masked), 0.25f);
        var e = H.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(SpmlpV2.Rehash(bytes)));
        Assert.Contains("masked but not zero", e.Message);
    }

    [Fact]
    public void AFileDescribingMoreWeightsThanMemoryHoldsIsRefusedBeforeAllocating()
    {
        // Layers whose every connection is deleted cost a few bytes in a file however large they
        // are: widen the first to 2^20 inputs by editing its shape, so that it describes more
        // weights than this process can hold (within the 2^31-weight limit where memory allows).
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int hidden = (int)Math.Min(2048, available / 18 / (1 << 20) + 1);
        var model = Mlp.Create(new[] { 4, hidden, 3 }, seed: 2);
        foreach (var l in model.State)
        {
            var shape = new long[] { l.OutFeatures, l.InFeatures };
            l.SetWeight(zeros(shape));
            l.SetDeleted(ones(shape, ScalarType.Bool));
        }
        var bytes = SpmlpFormat.ToBytes(model);
        var first = SpmlpV2.Parse(bytes).Layers[0];
        Assert.Equal(0, first.Present!.Count);
        int layerStart = first.Present.StreamOffset - 9 - 9; // the list's header, then out, in and flags
        Assert.Equal(hidden, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(layerStart)));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(layerStart + 4), 1 << 20);
        var patched = SpmlpV2.Rehash(bytes);
        if ((long)hidden << 20 > Mlp.MaxWeights)
            H.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(patched)); // more memory than the limit: the limit refuses it
        else
        {
            var e = H.Throws("ModelTooLarge", () => SpmlpFormat.FromBytes(patched));
            Assert.Contains("MiB", e.Message);
        }
    }

    [Fact]
    public void AFailedUndoSaysTheModelMayBeChangedAndKeepsBothErrors()
    {
        var model = Mlp.Create(new[] { 3, 2 }, seed: 1);
        var e = H.Throws("UndoFailed", () => model.Transact<int>(
            () => throw new InvalidOperationException("the step"),
            () => throw new InvalidOperationException("the undo")));
        var both = Assert.IsType<AggregateException>(e.InnerException);
        Assert.Equal(new[] { "the step", "the undo" }, both.InnerExceptions.Select(x => x.Message));
    }
}
