using System.Buffers.Binary;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>Files that lie: masks that contradict their weights, shapes that describe more memory than the process has.</summary>
public class SpmlpCorruptionTests
{
    [Fact]
    public void AFileWhoseMaskedWeightIsNotZeroIsCorrupt()
    {
        var model = Mlp.Create(new[] { 6, 5, 3 }, seed: 4);
        TestKit.Sparsify(model, 0.5, PruneScope.Layer);
        var bytes = SpmlpFormat.ToBytes(model);
        SpmlpFormat.FromBytes(bytes).State.ToList().ForEach(_ => { }); // the file as written is fine
        var layer = SpmlpReferenceReader.Parse(bytes).Layers[0];
        int masked = layer.Masked!.Positions[0];
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(layer.ValuesOffset + 4 * masked), 0.25f);
        var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(SpmlpReferenceReader.Rehash(bytes)));
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
        var first = SpmlpReferenceReader.Parse(bytes).Layers[0];
        Assert.Equal(0, first.Present!.Count);
        int layerStart = first.Present.StreamOffset - 9 - 9; // the list's header, then out, in and flags
        Assert.Equal(hidden, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(layerStart)));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(layerStart + 4), 1 << 20);
        var patched = SpmlpReferenceReader.Rehash(bytes);
        if ((long)hidden << 20 > Mlp.MaxWeights)
            TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(patched)); // more memory than the limit: the limit refuses it
        else
        {
            var e = TestKit.Throws("ModelTooLarge", () => SpmlpFormat.FromBytes(patched));
            Assert.Contains("MiB", e.Message);
        }
    }
}
