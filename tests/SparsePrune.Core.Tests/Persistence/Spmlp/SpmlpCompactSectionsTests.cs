using System.Buffers.Binary;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Version 3's compact sections: the preamble (metadata and input normalization) Brotli-compressed,
/// and position lists entropy-coded where that is smaller than packing them. Round trips through
/// every coder and width, the first version 3 layout still read, StoredBytes counting the coded
/// lists, and damaged preambles and coded lists refused as CorruptModelFile.
/// </summary>
public class SpmlpCompactSectionsTests
{
    private static Mlp SparseQuantized(int seed = 3)
    {
        var model = Mlp.Create(new[] { 256, 128, 10 }, seed: seed);
        model.FeatureNames = Enumerable.Range(0, 256).Select(k => $"pixel_{k / 16}_{k % 16}").ToArray();
        TestKit.Prune(model, 0.9);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.KMeans, Bits = new[] { 4 } }), null);
        return model;
    }

    private static void Corrupt(byte[] damaged, string? expect = null)
    {
        var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(damaged));
        if (expect is not null) Assert.Contains(expect, e.Message);
    }

    [Fact]
    public void ACompactFileIsSmallerAndReadsAsTheFirstLayoutDoes()
    {
        var model = SparseQuantized();
        var compact = SpmlpFormat.ToBytes(model);
        var first = SpmlpFormat.ToBytes(model, null, compact: false);
        var file = SpmlpReferenceReader.Parse(compact);
        Assert.True(file.CompressedPreamble);
        Assert.False(SpmlpReferenceReader.Parse(first).CompressedPreamble);
        Assert.Contains("pixel_15_15", file.MetadataJson);
        // The large layer's list is entropy-coded: random 10 % positions have uneven gaps.
        Assert.NotEqual(0, file.Layers[0].Present!.Coder);
        Assert.True(file.Layers[0].Present!.StreamLength < SpmlpReferenceReader.Parse(first).Layers[0].Present!.StreamLength);
        Assert.True(compact.Length < first.Length);
        foreach (var bytes in new[] { compact, first })
        {
            var copy = SpmlpFormat.FromBytes(bytes);
            TestKit.SameStateIgnoringReferences(TestKit.Snap(model), copy);
            Assert.Equal(model.FeatureNames, copy.FeatureNames);
            var rows = TestKit.RandomRows(5, 256, 4);
            TestKit.BitEqual(TestKit.Forward(model, rows, 5), TestKit.Forward(copy, rows, 5), "outputs");
        }
        // StoredBytes counts the coded list's stream, as the file has it.
        var report = CompressionReport.Create(model, null);
        Assert.Equal(file.Layers.Sum(l => l.WeightBytes), report.StoredBytes);
    }

    [Fact]
    public void UnquantizedModelsKeepTheVersion2Layout()
    {
        var model = Mlp.Create(new[] { 256, 128, 10 }, seed: 4);
        TestKit.Prune(model, 0.9);
        var file = SpmlpReferenceReader.Parse(SpmlpFormat.ToBytes(model));
        Assert.False(file.CompressedPreamble);
        Assert.All(file.Layers, l => Assert.Equal(0, l.Present!.Coder));
        Assert.Equal(SpmlpReferenceReader.ExpectedWeightBytes(128, 256, TestKit.Bools(model.State[0].Deleted)), CompressionReport.Create(model, null).Layers[0].StoredBytes);
    }

    [Theory]
    [InlineData((int)CodeCoder.Huffman)]
    [InlineData((int)CodeCoder.Deflate)]
    [InlineData((int)CodeCoder.Brotli)]
    public void CodedPositionListsRoundTripAtEveryWidth(int coderId)
    {
        var coder = (CodeCoder)coderId;
        var random = new Random(coderId);
        foreach (var density in new[] { 0.01, 0.2, 0.9 })
        {
            var positions = Enumerable.Range(0, 5000).Where(_ => random.NextDouble() < density).ToArray();
            for (int bits = 1; bits <= PositionStream.MaxCodedBits; bits++)
            {
                var coding = new PositionCoding(bits, PositionCoding.CodeCount(positions, bits));
                var stream = CodeCoding.Encode(coder, coding.Symbols(positions), 1 << bits);
                var list = new PositionStream(coding, coder, stream);
                Assert.Equal(positions, list.Decode(positions.Length, 5000, "test"));
                // The test's own reader agrees.
                Assert.Equal(coding.Symbols(positions).Select(s => (long)s), SpmlpReferenceReader.Symbols(stream, (int)coder, coding.Codes, 1 << bits));
            }
            // The chosen stream is never larger than the packed one and decodes to the same list.
            var chosen = PositionStream.Choose(positions, entropy: true);
            Assert.True(chosen.Stream.Length <= PositionStream.Choose(positions, entropy: false).Stream.Length);
            Assert.Equal(positions, chosen.Decode(positions.Length, 5000, "test"));
        }
    }

    [Fact]
    public void DamagedPreamblesAreCorrupt()
    {
        var bytes = SpmlpFormat.ToBytes(SparseQuantized(5));
        int at = SpmlpReferenceReader.Header;
        int compressed = -BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
        uint plain = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
        byte[] With(Action<byte[]> change) { var c = bytes.ToArray(); change(c); return SpmlpReferenceReader.Rehash(c); }
        // The decoded length lies (short, long, beyond the limit); the compressed length runs past the payload.
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(at + 4), plain - 1)), "decodes to more than");
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(at + 4), plain + 1)), "decodes to");
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(at + 4), uint.MaxValue)), "at most");
        Corrupt(With(f => BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(at), int.MinValue + 1)), "ends inside the compressed metadata");
        // Garbage for the stream; a version 2 file cannot hold a compressed preamble.
        Corrupt(With(f => f.AsSpan(at + 8, compressed).Fill(0xA5)));
        Corrupt(With(f => BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), 2)), "the metadata is");
        // Any flipped byte of the stream is refused or reads as some model: never another exception.
        for (int k = at + 8; k < at + 8 + compressed; k += 3)
        {
            try { _ = SpmlpFormat.FromBytes(With(f => f[k] ^= 0x24)); }
            catch (SparsePruneException e) { Assert.Equal("CorruptModelFile", e.ErrorId); }
        }
    }

    [Fact]
    public void DamagedCodedPositionListsAreCorrupt()
    {
        var bytes = SpmlpFormat.ToBytes(SparseQuantized(6));
        var list = SpmlpReferenceReader.Parse(bytes).Layers[0].Present!;
        Assert.NotEqual(0, list.Coder);
        int widthAt = list.Start + 4, lengthAt = list.Start + 9;
        byte[] With(Action<byte[]> change) { var c = bytes.ToArray(); change(c); return SpmlpReferenceReader.Rehash(c); }
        // An unknown coder, a width too wide to entropy-code, a stream length past the payload.
        for (int coder = 4; coder < 8; coder++) Corrupt(With(f => f[widthAt] = (byte)(list.Bits | coder << 5)), $"unknown coder {coder}");
        Corrupt(With(f => f[widthAt] = (byte)(9 | list.Coder << 5)), "entropy-codes 9-bit codes");
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(lengthAt), uint.MaxValue)), "ends inside layer 0's list");
        // Fewer codes than the stream holds, and a code count beyond the layer.
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(list.Start + 5), (uint)list.Codes - 1)));
        Corrupt(With(f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(list.Start + 5), 256 * 128 + 1)), "codes for");
        for (int k = list.StreamOffset; k < list.StreamOffset + list.StreamLength; k += 2)
        {
            try { _ = SpmlpFormat.FromBytes(With(f => f[k] ^= 0x81)); }
            catch (SparsePruneException e) { Assert.Equal("CorruptModelFile", e.ErrorId); }
        }
    }
}
