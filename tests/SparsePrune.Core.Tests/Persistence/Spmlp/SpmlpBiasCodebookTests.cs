using System.Buffers.Binary;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Format 4: biases on codebooks (Invoke-Quantization -BiasBits) stored as codes. Exact round
/// trips; format 3 (or 2) whenever no bias is coded, so that earlier releases still read those
/// files; biases trained off their codebook written as float32; a version-4 layout read as an
/// earlier version is refused, not misread; StoredBytes counts the coded biases.
/// </summary>
public class SpmlpBiasCodebookTests
{
    private static Mlp QuantizedWithBiases(int[]? biasBits, bool pruned = true, int seed = 4)
    {
        var model = Mlp.Create(new[] { 64, 40, 20, 10 }, seed: seed);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        if (pruned) TestKit.Prune(model, 0.8);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 3 }, BiasBits = biasBits }), TestKit.Digits);
        return model;
    }

    private static int Version(byte[] file) => BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CodedBiasesRoundTripExactlyAsVersion4(bool pruned)
    {
        var model = QuantizedWithBiases(new[] { 3, 2, 0 }, pruned);
        Assert.Equal("QuantizeBiases", model.History[^1].Operation);
        Assert.Equal(new[] { 3, 2, 0 }, model.History[^1].Settings["Bits"]);
        for (int l = 0; l < 2; l++)
        {
            var book = model.State[l].BiasCodebook!;
            Assert.True(book.Length <= 1 << (3 - l));
            Assert.All(model.GetBias(l), b => Assert.Contains(b, book));
        }
        Assert.Null(model.State[2].BiasCodebook);

        var bytes = SpmlpFormat.ToBytes(model);
        Assert.Equal(4, Version(bytes));
        var copy = SpmlpFormat.FromBytes(bytes);
        for (int l = 0; l < model.LayerCount; l++)
        {
            TestKit.BitEqual(model.GetBias(l), copy.GetBias(l), $"layer {l}'s biases");
            TestKit.BitEqual(TestKit.W(model, l), TestKit.W(copy, l), $"layer {l}'s weights");
            TestKit.BitEqual(model.State[l].BiasCodebook ?? Array.Empty<float>(), copy.State[l].BiasCodebook ?? Array.Empty<float>(), $"layer {l}'s bias codebook");
        }
        var rows = TestKit.RandomRows(9, 64, 3);
        TestKit.BitEqual(TestKit.Forward(model, rows, 9), TestKit.Forward(copy, rows, 9), "outputs");
        Assert.Equal(4, Version(SpmlpFormat.ToBytes(copy))); // read back, the biases are still coded
    }

    [Fact]
    public void CodedBiasesMakeTheFileSmallerAndStoredBytesSaySo()
    {
        var plain = QuantizedWithBiases(null);
        var coded = QuantizedWithBiases(new[] { 3 });
        var (a, b) = (SpmlpFormat.ToBytes(plain), SpmlpFormat.ToBytes(coded));
        Assert.Equal(3, Version(a));
        Assert.Equal(4, Version(b));
        // The file pays for a history record more (QuantizeBiases), and still shrinks.
        Assert.True(b.Length < a.Length, $"float32 biases {a.Length} B, coded {b.Length} B");
        long[] weightBytes = SpmlpFormat.LayerWeightBytes(coded), plainBytes = SpmlpFormat.LayerWeightBytes(plain);
        // 70 biases: 280 B as float32; as codes, three codebooks of at most 8 values and ~3 bits a bias.
        Assert.True(plainBytes.Sum() - weightBytes.Sum() > 100, $"stored bytes {plainBytes.Sum()} with float32 biases, {weightBytes.Sum()} coded");
        for (int l = 0; l < 3; l++)
        {
            // The codebook and the codes instead of 4 bytes a bias; the weights' bytes are the same.
            long floor = plainBytes[l] - 4L * coded.State[l].OutFeatures + 4L * coded.State[l].BiasCodebook!.Length;
            Assert.InRange(weightBytes[l], floor, floor + coded.State[l].OutFeatures);
        }
    }

    [Fact]
    public void BiasesTrainedOffTheirCodebookAreWrittenAsFloat32InVersion3()
    {
        var model = QuantizedWithBiases(new[] { 3 });
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 2 });
        var bytes = SpmlpFormat.ToBytes(model);
        Assert.Equal(3, Version(bytes));
        var copy = SpmlpFormat.FromBytes(bytes);
        for (int l = 0; l < 3; l++)
        {
            TestKit.BitEqual(model.GetBias(l), copy.GetBias(l), $"layer {l}'s biases");
            Assert.Null(copy.State[l].BiasCodebook);
        }
    }

    [Fact]
    public void AVersion4LayoutUnderAnEarlierVersionIsRefusedNotMisread()
    {
        var bytes = SpmlpFormat.ToBytes(QuantizedWithBiases(new[] { 3 }));
        var asVersion3 = bytes.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(asVersion3.AsSpan(8), 3);
        var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(SpmlpReferenceReader.Rehash(asVersion3)));
        Assert.Contains("unknown flags", e.Message);
        // What a release that reads up to version 3 says of a version-4 file, as this one says of version 5.
        var asVersion5 = bytes.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(asVersion5.AsSpan(8), 5);
        var v = TestKit.Throws("UnsupportedModelVersion", () => SpmlpFormat.FromBytes(SpmlpReferenceReader.Rehash(asVersion5)));
        Assert.Contains("versions 1 to 4", v.Message);
    }

    [Fact]
    public void DamagedBiasSectionsAreRefused()
    {
        var model = QuantizedWithBiases(new[] { 3 }, pruned: false);
        var bytes = SpmlpFormat.ToBytes(model);
        // Layer 2 is the last: its bias section ends the payload. Cut a byte out of its coded stream.
        var cut = bytes[..^33].Concat(bytes[^32..]).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(cut.AsSpan(12), (ulong)(cut.Length - 24 - 32));
        TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(SpmlpReferenceReader.Rehash(cut)));
    }

    [Fact]
    public void FoldingTheOffsetsPutsLayer0sBiasesBackToFloat32()
    {
        var model = QuantizedWithBiases(new[] { 3 });
        Assert.True(InputFolding.Fold(model));
        Assert.Null(model.State[0].BiasCodebook);
        Assert.NotNull(model.State[1].BiasCodebook);
        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        TestKit.BitEqual(model.GetBias(0), copy.GetBias(0), "layer 0's biases");
    }

    [Fact]
    public void BadBiasBitsAreRefusedBeforeAnythingChanges()
    {
        var model = Mlp.Create(new[] { 64, 20, 10 }, seed: 2);
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { BiasBits = new[] { 9 } }));
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { BiasBits = new[] { 3, 3, 3 } }));
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { BiasBits = new[] { -1 } }));
        Assert.Empty(model.History);
    }
}
