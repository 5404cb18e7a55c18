using System.Buffers.Binary;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests;

/// <summary>
/// Model files, version 3: quantized layers stored as a codebook or grid and entropy-coded codes.
/// Exact round trips at 1–8 bits (KMeans and Linear, sparse and dense, neuron-pruned and masked),
/// version 2 kept for unquantized models, StoredBytes as the file's own bytes, BitsPerWeight,
/// damaged sections refused as CorruptModelFile, and the sizes of LeNet-300-100 per coder.
/// </summary>
public class SpmlpFormat3Tests
{
    private readonly ITestOutputHelper _output;

    public SpmlpFormat3Tests(ITestOutputHelper output) => _output = output;

    private static Mlp Quantize(Mlp model, QuantizationMethod method, int bits)
    {
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { bits } }), null);
        return model;
    }

    private static void AssertSameQuantization(LayerQuantization expected, LayerQuantization? actual)
    {
        Assert.NotNull(actual);
        Assert.Same(expected.Scheme, actual!.Scheme);
        Assert.Equal(expected.Bits, actual.Bits);
        TestKit.BitEqual(expected.Codebook, actual.Codebook, "codebook");
        TestKit.BitEqual(expected.RowScales ?? Array.Empty<float>(), actual.RowScales ?? Array.Empty<float>(), "row scales");
        Assert.Equal(expected.RowZeroPoints ?? Array.Empty<int>(), actual.RowZeroPoints ?? Array.Empty<int>());
    }

    private static Mlp AssertRoundTrip(Mlp model, CodeCoder? coder = null)
    {
        var bytes = SpmlpFormat.ToBytes(model, coder);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        var copy = SpmlpFormat.FromBytes(bytes);
        TestKit.SameStateIgnoringReferences(TestKit.Snap(model), copy);
        for (int i = 0; i < model.LayerCount; i++)
        {
            TestKit.BitEqual(TestKit.W(model, i), TestKit.W(copy, i), $"layer {i}'s weights");
            if (model.State[i].Quantization is { } q) AssertSameQuantization(q, copy.State[i].Quantization);
            else Assert.Null(copy.State[i].Quantization);
        }
        var rows = TestKit.RandomRows(9, model.Widths[0], 3);
        TestKit.BitEqual(TestKit.Forward(model, rows, 9), TestKit.Forward(copy, rows, 9), "outputs");
        // The metadata no longer carries the quantization: the layer sections do.
        var file = SpmlpReferenceReader.Parse(bytes);
        var json = file.MetadataJson;
        Assert.DoesNotContain("\"Quantization\"", json); // null, so left out
        Assert.All(Enumerable.Range(0, model.LayerCount), i => Assert.Equal(model.State[i].Quantization is not null, file.Layers[i].Quantization is not null));
        return copy;
    }

    public static IEnumerable<object[]> BitsAndMethods()
    {
        for (int bits = 1; bits <= 8; bits++)
            foreach (var sparse in new[] { false, true })
            {
                yield return new object[] { QuantizationMethod.KMeans, bits, sparse };
                if (bits >= 2) yield return new object[] { QuantizationMethod.Linear, bits, sparse };
            }
    }

    [Theory]
    [MemberData(nameof(BitsAndMethods))]
    public void QuantizedModelsRoundTripBitForBit(QuantizationMethod method, int bits, bool sparse)
    {
        var model = Mlp.Create(new[] { 64, 48, 10 }, seed: 31 + bits);
        if (sparse) TestKit.Prune(model, 0.8);
        Quantize(model, method, bits);
        AssertRoundTrip(model);
        foreach (var coder in new[] { CodeCoder.Huffman, CodeCoder.Deflate, CodeCoder.Brotli })
            if (coder == CodeCoder.Huffman || method == QuantizationMethod.Linear || bits < 8) AssertRoundTrip(model, coder);
    }

    [Theory]
    [InlineData(QuantizationMethod.KMeans)]
    [InlineData(QuantizationMethod.Linear)]
    public void NeuronPrunedMaskedAndPartlyQuantizedModelsRoundTrip(QuantizationMethod method)
    {
        var model = Mlp.Create(new[] { 64, 40, 30, 10 }, seed: 17);
        TestKit.Prune(model, 0.25, PruneStructure.Neuron);
        TestKit.Prune(model, 0.5);
        TestKit.Sparsify(model, 0.5, layers: new[] { 0, 1 });
        Assert.NotNull(model.State[0].Keep);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { 4, 3, 8 } }), null);
        AssertRoundTrip(model);
        // One layer quantized, the others float32: still version 3, the others stored as in version 2.
        var partial = Mlp.Create(new[] { 64, 40, 30, 10 }, seed: 18);
        TestKit.Prune(partial, 0.6);
        Quantize(partial, method, 5);
        partial.State[0].Quantization = null;
        partial.State[2].Quantization = null;
        AssertRoundTrip(partial);
    }

    [Fact]
    public void ModelsWithoutQuantizedLayersAreStillWrittenAsVersion2()
    {
        var model = Mlp.Create(new[] { 8, 6, 3 }, seed: 2);
        TestKit.Prune(model, 0.5);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(SpmlpFormat.ToBytes(model).AsSpan(8)));
        Quantize(model, QuantizationMethod.KMeans, 2);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(SpmlpFormat.ToBytes(model).AsSpan(8)));
    }

    [Fact]
    public void StoredBytesAreTheWeightBytesOfTheWrittenQuantizedFile()
    {
        var models = new List<Mlp>();
        foreach (var method in new[] { QuantizationMethod.KMeans, QuantizationMethod.Linear })
        {
            var sparse = Mlp.Create(new[] { 64, 40, 30, 10 }, seed: 79);
            TestKit.Prune(sparse, 0.7);
            TestKit.Sparsify(sparse, 0.5, layers: new[] { 0 });
            models.Add(Quantize(sparse, method, 5));
            models.Add(Quantize(Mlp.Create(new[] { 64, 40, 30, 10 }, seed: 80), method, 3));
        }
        foreach (var m in models)
        {
            var bytes = SpmlpFormat.ToBytes(m);
            var file = SpmlpReferenceReader.Parse(bytes);
            var report = CompressionReport.Create(m, null);
            var counted = SpmlpFormat.LayerWeightBytes(m);
            for (int i = 0; i < m.LayerCount; i++)
            {
                var q = file.Layers[i].Quantization!;
                // Byte for byte: positions + codebook or grid + coded codes + biases.
                long expected = (file.Layers[i].Present?.StreamLength ?? 0) + q.ParameterBytes + q.StreamLength + 4L * m.State[i].OutFeatures;
                Assert.Equal(expected, counted[i]);
                Assert.Equal(expected, report.Layers[i].StoredBytes);
                Assert.Equal(m.State[i].Quantization!.Bits, report.Layers[i].Bits);
                Assert.Equal(8.0 * expected / report.Layers[i].Weights, report.Layers[i].BitsPerWeight, 12);
                Assert.True(report.Layers[i].BitsPerWeight < 32);
            }
            Assert.Equal(file.Layers.Sum(l => l.WeightBytes), report.StoredBytes);
            Assert.Equal(8.0 * report.StoredBytes / report.Weights, report.BitsPerWeight, 12);
        }
        // Unquantized: Bits null, BitsPerWeight a little over 32 for a dense layer (the biases).
        var plain = CompressionReport.Create(Mlp.Create(new[] { 8, 6, 3 }, seed: 1), null);
        Assert.All(plain.Layers, l => Assert.Null(l.Bits));
        Assert.Equal(32.0 * (48 + 6) / 48, plain.Layers[0].BitsPerWeight, 12);
    }

    [Fact]
    public void HuffmanLengthsStayWithinTheLimitAndTheCodesDecode()
    {
        // Fibonacci frequencies give the deepest Huffman tree: 40 symbols would need 39 bits.
        var freq = new long[40];
        freq[0] = freq[1] = 1;
        for (int k = 2; k < 40; k++) freq[k] = freq[k - 1] + freq[k - 2];
        var lengths = CodeCoding.Lengths(freq);
        Assert.True(lengths.Max() <= CodeCoding.MaxLength);
        Assert.True(lengths.Sum(l => Math.Pow(2, -l)) <= 1.0);
        var codes = Enumerable.Range(0, 2000).Select(k => (ushort)(k * 7 % 40)).ToArray();
        var stream = CodeCoding.Encode(CodeCoder.Huffman, codes, 40);
        Assert.Equal(codes, CodeCoding.Decode(CodeCoder.Huffman, stream, codes.Length, 40, "test"));
        // One symbol: one bit a code. No codes: only the table.
        Assert.Equal(3 + 1, CodeCoding.Encode(CodeCoder.Huffman, new ushort[] { 2, 2, 2 }, 3).Length);
        Assert.Empty(CodeCoding.Decode(CodeCoder.Huffman, CodeCoding.Encode(CodeCoder.Huffman, Array.Empty<ushort>(), 3), 0, 3, "test"));
    }

    // ---- damaged files ------------------------------------------------------------------------

    private static void Corrupt(byte[] damaged, string? expect = null)
    {
        var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(damaged));
        Assert.Contains("passed its checksum", e.Message);
        if (expect is not null) Assert.Contains(expect, e.Message);
    }

    private static byte[] With(byte[] bytes, Action<byte[]> change)
    {
        var copy = bytes.ToArray();
        change(copy);
        return SpmlpReferenceReader.Rehash(copy);
    }

    [Theory]
    [InlineData(QuantizationMethod.KMeans, (int)CodeCoder.Huffman)]
    [InlineData(QuantizationMethod.KMeans, (int)CodeCoder.Deflate)]
    [InlineData(QuantizationMethod.KMeans, (int)CodeCoder.Brotli)]
    [InlineData(QuantizationMethod.Linear, (int)CodeCoder.Huffman)]
    [InlineData(QuantizationMethod.Linear, (int)CodeCoder.Brotli)]
    public void APayloadCutAnywhereIsCorrupt(QuantizationMethod method, int coderId)
    {
        var coder = (CodeCoder)coderId;
        var model = Mlp.Create(new[] { 12, 8, 3 }, seed: 6);
        TestKit.Prune(model, 0.5);
        Quantize(model, method, 3);
        var bytes = SpmlpFormat.ToBytes(model, coder);
        var file = SpmlpReferenceReader.Parse(bytes);
        int start = file.Layers[0].Present!.Start, end = bytes.Length - SpmlpReferenceReader.Hash;
        // Cut the payload short at every byte of the layers (header length and checksum fixed up).
        for (int cut = start; cut < end; cut++)
            Corrupt(SpmlpReferenceReader.Splice(bytes, cut, end - cut, Array.Empty<byte>()));
        // And a truncated file, as a disk gives it.
        TestKit.Throws("TruncatedModelFile", () => SpmlpFormat.FromBytes(bytes.AsSpan(0, bytes.Length - 40).ToArray()));
    }

    [Fact]
    public void LyingCodebooksCodesAndTablesAreCorrupt()
    {
        var model = Quantize(Mlp.Create(new[] { 12, 8, 3 }, seed: 8), QuantizationMethod.KMeans, 3);
        var bytes = SpmlpFormat.ToBytes(model, CodeCoder.Huffman);
        var q = SpmlpReferenceReader.Parse(bytes).Layers[0].Quantization!;
        Assert.Equal(8, q.Levels);
        int levelsAt = q.Offset + 2;
        // A codebook length that lies: more than the bits hold, more than the file has, fewer than written.
        Corrupt(With(bytes, f => BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(levelsAt), 9)), "codebook of 9 values");
        Corrupt(With(bytes, f => { f[q.Offset + 1] = 8; BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(levelsAt), 256); }), "ends inside layer 0's codebook");
        Corrupt(With(bytes, f => BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(levelsAt), 7)));
        // Bits, method, coder out of range; a stream length that lies.
        Corrupt(With(bytes, f => f[q.Offset + 1] = 0), "0 bits");
        Corrupt(With(bytes, f => f[q.Offset + 1] = 9), "9 bits");
        Corrupt(With(bytes, f => f[q.Offset] = 200), "unknown method 200"); // 0 to 2 are schemes (KMeans, Linear, PowerOfTwo)
        Corrupt(With(bytes, f => f[q.CoderOffset] = 4), "unknown coder 4");
        Corrupt(With(bytes, f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(q.CoderOffset + 1), uint.MaxValue)), "ends inside layer 0's codes");
        // A codebook value that is not finite.
        Corrupt(With(bytes, f => BinaryPrimitives.WriteSingleLittleEndian(f.AsSpan(q.ParametersOffset), float.NaN)), "NaN");
        // Inconsistent Huffman tables: every symbol 1 bit long (over-subscribed), a length beyond the limit, no symbol at all.
        Corrupt(With(bytes, f => f.AsSpan(q.StreamOffset, 9).Fill(1)), "inconsistent Huffman table");
        Corrupt(With(bytes, f => f[q.StreamOffset + 1] = 25), "code length of 25 bits");
        Corrupt(With(bytes, f => f.AsSpan(q.StreamOffset, 9).Clear()), "empty Huffman table");
        // Codes that end early, padding that is not zero, a byte after the last code.
        Corrupt(SpmlpReferenceReader.Splice(With(bytes, f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(q.CoderOffset + 1), (uint)q.StreamLength - 1)),
            q.StreamOffset + q.StreamLength - 1, 1, Array.Empty<byte>()));
        Corrupt(SpmlpReferenceReader.Splice(With(bytes, f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(q.CoderOffset + 1), (uint)q.StreamLength + 1)),
            q.StreamOffset + q.StreamLength, 0, new byte[] { 0 }), "after its last code");
        // Any flipped byte of the codes (table included) decodes to other valid codes or is refused: never another exception.
        for (int k = q.StreamOffset; k < q.StreamOffset + q.StreamLength; k++)
            foreach (byte x in new byte[] { 0x01, 0x80, 0xFF })
            {
                var damaged = With(bytes, f => f[k] ^= x);
                try { _ = SpmlpFormat.FromBytes(damaged); }
                catch (SparsePruneException e) { Assert.Equal("CorruptModelFile", e.ErrorId); }
            }
    }

    [Theory]
    [InlineData((int)CodeCoder.Deflate)]
    [InlineData((int)CodeCoder.Brotli)]
    public void CodesBeyondTheCodebookAndCorruptCompressedStreamsAreCorrupt(int coderId)
    {
        var coder = (CodeCoder)coderId;
        var model = Quantize(Mlp.Create(new[] { 12, 8, 3 }, seed: 9), QuantizationMethod.KMeans, 2);
        var bytes = SpmlpFormat.ToBytes(model, coder);
        var q = SpmlpReferenceReader.Parse(bytes).Layers[0].Quantization!;
        Assert.Equal((int)coder, q.Coder);
        byte[] Replace(ushort[] codes)
        {
            var stream = CodeCoding.Encode(coder, codes, 256);
            var header = new byte[5];
            header[0] = (byte)coder;
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), (uint)stream.Length);
            return SpmlpReferenceReader.Splice(bytes, q.CoderOffset, 5 + q.StreamLength, header.Concat(stream).ToArray());
        }
        var good = Enumerable.Repeat((ushort)1, 96).ToArray();
        _ = SpmlpFormat.FromBytes(Replace(good)); // the splice itself is sound
        // Code 5 with a codebook of 4 values (codes 0..4).
        var beyond = good.ToArray();
        beyond[40] = (ushort)(q.Levels + 1);
        Corrupt(Replace(beyond), $"holds code {q.Levels + 1}");
        // Fewer or more codes than the layer stores.
        Corrupt(Replace(good.Take(95).ToArray()), "holds 95 codes");
        Corrupt(Replace(good.Append((ushort)1).ToArray()), "more codes");
        // Garbage instead of a compressed stream, and a stream cut short.
        Corrupt(With(bytes, f => f.AsSpan(q.StreamOffset, q.StreamLength).Fill(0xFF)));
        var cut = SpmlpReferenceReader.Splice(bytes, q.StreamOffset + q.StreamLength / 2, q.StreamLength - q.StreamLength / 2, Array.Empty<byte>());
        Corrupt(With(cut, f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(q.CoderOffset + 1), (uint)(q.StreamLength / 2))));
        for (int k = q.StreamOffset; k < q.StreamOffset + q.StreamLength; k++)
        {
            var damaged = With(bytes, f => f[k] ^= 0x5A);
            try { _ = SpmlpFormat.FromBytes(damaged); }
            catch (SparsePruneException e) { Assert.Equal("CorruptModelFile", e.ErrorId); }
        }
    }

    [Fact]
    public void LyingGridsAreCorrupt()
    {
        var model = Quantize(Mlp.Create(new[] { 12, 8, 3 }, seed: 10), QuantizationMethod.Linear, 4);
        var bytes = SpmlpFormat.ToBytes(model, CodeCoder.Huffman);
        var q = SpmlpReferenceReader.Parse(bytes).Layers[0].Quantization!;
        Assert.Equal(5 * 8, q.ParameterBytes);
        Corrupt(With(bytes, f => BinaryPrimitives.WriteSingleLittleEndian(f.AsSpan(q.ParametersOffset), -1f)), "row scales");
        Corrupt(With(bytes, f => BinaryPrimitives.WriteSingleLittleEndian(f.AsSpan(q.ParametersOffset), float.PositiveInfinity)), "row scales");
        Corrupt(With(bytes, f => f[q.ParametersOffset + 32] = 8), "zero points"); // 4 bits: levels -8..7
        Corrupt(With(bytes, f => f[q.ParametersOffset + 32] = unchecked((byte)-9)), "zero points");
        // Quantized flag in a version 2 file (plain metadata, as version 2 has it): unknown.
        var plain = SpmlpFormat.ToBytes(model, CodeCoder.Huffman, compact: false);
        Corrupt(With(plain, f => BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), 2)), "unknown flags");
    }

    [Fact]
    public void AWeightOffItsQuantizationIsNotWritten()
    {
        var model = Quantize(Mlp.Create(new[] { 12, 8, 3 }, seed: 11), QuantizationMethod.KMeans, 3);
        var w = TestKit.W(model, 0);
        int i = Array.FindIndex(w, v => v != 0);
        w[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w[i]) + 1);
        TestKit.SetWeight(model, 0, w);
        Assert.Throws<InvalidOperationException>(() => SpmlpFormat.ToBytes(model));
    }

    // ---- sizes ---------------------------------------------------------------------------------

    [Fact]
    public void LeNet300100At95PercentAndFiveOrThreeBitsPerCoder() => MeasureLeNet(trained: false);

    internal void MeasureLeNet(bool trained)
    {
        var baseModel = Mlp.Create(new[] { 784, 300, 100, 10 }, seed: 1);
        if (trained) Trainer.Train(baseModel, DatasetLoader.FromIdxFolder("/usr/share/datasets/fashion-mnist", new DatasetOptions { Seed = 1 }), new TrainingOptions { Epochs = 1, Seed = 1 });
        TestKit.Prune(baseModel, 0.95, PruneStructure.Connection);
        long dense = 4L * (784 * 300 + 300 * 100 + 100 * 10 + 300 + 100 + 10);
        // Sizes without the metadata JSON: it holds the save time, whose digits vary by a byte or so.
        static int Size(byte[] file) => file.Length - SpmlpReferenceReader.Parse(file).MetadataLength;
        var format2 = SpmlpFormat.ToBytes(baseModel);
        _output.WriteLine($"LeNet-300-100 dense float32 weights+biases {dense} B; 95 % pruned, format 2: file {format2.Length} B ({Size(format2)} B without metadata), StoredBytes {SpmlpFormat.LayerWeightBytes(baseModel).Sum()}");
        foreach (var method in new[] { QuantizationMethod.KMeans, QuantizationMethod.Linear })
            foreach (var bits in new[] { 5, 3 })
            {
                var model = Quantize(baseModel.Clone(), method, bits);
                var sizes = new Dictionary<CodeCoder, int>();
                foreach (var coder in new[] { CodeCoder.Huffman, CodeCoder.Deflate, CodeCoder.Brotli })
                    sizes[coder] = Size(SpmlpFormat.ToBytes(model, coder));
                var file = SpmlpFormat.ToBytes(model);
                int chosen = Size(file);
                var report = CompressionReport.Create(model, null);
                _output.WriteLine($"{method} {bits}-bit: Huffman {sizes[CodeCoder.Huffman]} B, Deflate {sizes[CodeCoder.Deflate]} B, Brotli {sizes[CodeCoder.Brotli]} B; "
                    + $"written {chosen} B (file {file.Length} B); StoredBytes {report.StoredBytes}, {report.BitsPerWeight:0.00} bits/weight, ratio {report.CompressionRatio:0.0}x");
                Assert.True(chosen <= sizes.Values.Min()); // each layer takes its smallest coder
                Assert.True(chosen < Size(format2));
            }
    }
}
