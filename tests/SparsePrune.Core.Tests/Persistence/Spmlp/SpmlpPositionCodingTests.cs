using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Model files, version 2: position-coded pruned layers, exact round trips at every sparsity,
/// fillers at every code width, validation of damaged position lists, the file size of a
/// 95 % pruned LeNet-300-100, StoredBytes as the file's own weight bytes, version 1 files.
/// </summary>
public class SpmlpPositionCodingTests
{
    private readonly ITestOutputHelper _output;

    public SpmlpPositionCodingTests(ITestOutputHelper output) => _output = output;

    private static Mlp RoundTrip(Mlp model)
    {
        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        TestKit.SameStateIgnoringReferences(TestKit.Snap(model), copy);
        Assert.Equal(model.Layers.Select(l => l.Stored), copy.Layers.Select(l => l.Stored));
        return copy;
    }

    /// <summary>Deletes exactly the flagged connections of one layer (the weights there become 0).</summary>
    private static void Delete(Mlp model, int layer, bool[] deleted)
    {
        var l = model.State[layer];
        var shape = new long[] { l.OutFeatures, l.InFeatures };
        var w = TestKit.Floats(l.Weight);
        for (int k = 0; k < w.Length; k++) if (deleted[k]) w[k] = 0f;
        l.SetWeight(tensor(w, shape));
        l.SetDeleted(tensor(deleted, shape));
    }

    private static void AssertFileMatchesModel(Mlp model, byte[] bytes)
    {
        var file = SpmlpReferenceReader.Parse(bytes);
        Assert.Equal(model.LayerCount, file.Layers.Length);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var l = model.State[i];
            var layer = file.Layers[i];
            if (l.Deleted is null) { Assert.Null(layer.Present); continue; }
            var deleted = TestKit.Bools(l.Deleted);
            Assert.Equal(Enumerable.Range(0, deleted.Length).Where(k => !deleted[k]), layer.Present!.Positions);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.95)]
    [InlineData(0.999)]
    public void PrunedModelsRoundTripBitForBit(double ratio)
    {
        var model = Mlp.Create(new[] { 64, 128, 32, 10 }, seed: 71);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        TestKit.Prune(model, ratio);
        if (ratio == 0)
            for (int i = 0; i < model.LayerCount; i++) Delete(model, i, new bool[model.State[i].DenseWeights]); // sparse, nothing deleted
        Assert.All(model.State, l => Assert.NotNull(l.Deleted));
        Assert.Equal((long)Math.Floor(ratio * 64 * 128), model.State[0].DeletedCount);

        var bytes = SpmlpFormat.ToBytes(model);
        var copy = RoundTrip(model);
        AssertFileMatchesModel(model, bytes);
        var rows = TestKit.RandomRows(7, 64, 5);
        TestKit.BitEqual(TestKit.Forward(model, rows, 7), TestKit.Forward(copy, rows, 7), "outputs");

        // Sparser layers get wider codes: a bitmap (1 bit) when little is deleted, more when much is.
        var bits = SpmlpReferenceReader.Parse(bytes).Layers[0].Present!.Bits;
        if (ratio <= 0.5) Assert.True(bits <= 2, $"{ratio}: {bits} bits");
        if (ratio >= 0.95) Assert.True(bits >= 4, $"{ratio}: {bits} bits");
    }

    [Fact]
    public void FullyDeletedRowsAndLayersRoundTrip()
    {
        var model = Mlp.Create(new[] { 20, 16, 12, 3 }, seed: 72);
        var rng = new Random(3);
        var first = new bool[16 * 20];
        for (int k = 0; k < first.Length; k++) first[k] = rng.NextDouble() < 0.7;
        foreach (int row in new[] { 0, 5, 6, 15 }) // first, inner, adjacent and last rows fully deleted
            for (int c = 0; c < 20; c++) first[row * 20 + c] = true;
        Delete(model, 0, first);
        var all = Enumerable.Repeat(true, 12 * 16).ToArray(); // a layer with nothing left
        Delete(model, 1, all);
        var last = new bool[3 * 12];
        last[0] = true; last[^1] = true; // the very first and very last positions
        Delete(model, 2, last);

        var bytes = SpmlpFormat.ToBytes(model);
        var file = SpmlpReferenceReader.Parse(bytes);
        Assert.Equal(0, file.Layers[1].Present!.Count);
        Assert.Equal(0, file.Layers[1].Present!.StreamLength);
        AssertFileMatchesModel(model, bytes);
        var copy = RoundTrip(model);
        Assert.Equal(16 * 12, copy.State[1].DeletedCount);
    }

    [Fact]
    public void GapsWiderThanEveryCodeWidthTakeFillersAndNoValues()
    {
        // Each width in turn: gaps of 1, M, M + 1, 2M, 2M + 1 and 3M + 2 (M = 2^b − 1) round-trip exactly.
        for (int bits = 1; bits <= 16; bits++)
        {
            int max = (1 << bits) - 1;
            var positions = new List<int>();
            int at = -1;
            foreach (int gap in new[] { 1, max, max + 1, 2 * max, 2 * max + 1, 3 * max + 2, 1 })
                positions.Add(at += gap);
            var coding = new PositionCoding(bits, PositionCoding.CodeCount(positions.ToArray(), bits));
            long fillers = 0 + 0 + 1 + 1 + 2 + 3 + 0;
            if (bits == 1) fillers = positions[^1] + 1 - positions.Count; // width 1 is a bitmap: a filler per gap position
            Assert.Equal(positions.Count + fillers, coding.Codes);
            var stream = coding.Encode(positions.ToArray());
            Assert.Equal(positions, coding.Decode(stream, positions.Count, positions[^1] + 1, "test list"));
        }

        // In a file: a layer of 300 x 300 whose only present weights are 70 000 positions
        // apart overflows even 16-bit codes; the deleted set and values come back exactly.
        var model = Mlp.Create(new[] { 300, 300, 2 }, seed: 73);
        var deleted = Enumerable.Repeat(true, 90000).ToArray();
        foreach (int k in new[] { 0, 1, 70001, 89999 }) deleted[k] = false;
        Delete(model, 0, deleted);
        var bytes = SpmlpFormat.ToBytes(model);
        var list = SpmlpReferenceReader.Parse(bytes).Layers[0].Present!;
        Assert.Equal(4, list.Count);
        Assert.True(list.Codes > list.Count, $"{list.Codes} codes for {list.Count} positions at {list.Bits} bits: no filler");
        Assert.Equal(new[] { 0, 1, 70001, 89999 }, list.Positions);
        var copy = RoundTrip(model);
        Assert.Equal(89996, copy.State[0].DeletedCount);
        // Fillers list nothing: only the four present weights have values in the file.
        Assert.Equal(4 * 4, SpmlpReferenceReader.Parse(bytes).Layers[0].ValuesLength);
    }

    [Fact]
    public void NeuronPrunedAndMaskedModelsRoundTrip()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 48, 24, 10 }, seed: 74);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 1, Seed = 2 });
        TestKit.Prune(model, 0.6);
        TestKit.Prune(model, 0.3, PruneStructure.Neuron);
        Assert.Equal(new[] { 64, 48 - 14, 24 - 7, 10 }, model.Widths);
        RoundTrip(model);

        // Masked on top of pruned, then masked alone (dense layers), at several sparsities.
        foreach (var s in new[] { 0.3, 0.95 })
        {
            TestKit.Sparsify(model, s);
            Assert.All(model.State, l => Assert.NotNull(l.Keep));
            var copy = RoundTrip(model);
            TestKit.Sparsify(model, 0);
            TestKit.Sparsify(copy, 0);
            for (int l = 0; l < model.LayerCount; l++) TestKit.BitEqual(TestKit.W(model, l), TestKit.W(copy, l), $"layer {l} restored after {s}");
        }
        var dense = Mlp.Create(new[] { 64, 32, 10 }, seed: 75);
        TestKit.Sparsify(dense, 0.8, PruneScope.Global);
        var denseCopy = RoundTrip(dense);
        Assert.All(denseCopy.Layers, l => Assert.Equal(LayerStorage.Dense, l.Stored));
    }

    [Fact]
    public void DamagedPositionListsAreCorruptNotACrash()
    {
        var model = Mlp.Create(new[] { 40, 30, 5 }, seed: 76);
        TestKit.Prune(model, 0.9);
        TestKit.Sparsify(model, 0.95);
        var bytes = SpmlpFormat.ToBytes(model);
        var layer = SpmlpReferenceReader.Parse(bytes).Layers[0];
        var list = layer.Present!;
        Assert.True(list.StreamLength > 8);

        byte[] With(Action<byte[]> change)
        {
            var copy = bytes.ToArray();
            change(copy);
            return SpmlpReferenceReader.Rehash(copy);
        }
        void Corrupt(string expect, Action<byte[]> change)
        {
            var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(With(change)));
            Assert.Contains("passed its checksum", e.Message);
            Assert.Contains(expect, e.Message);
        }
        int countAt = list.StreamOffset - 9, bitsAt = list.StreamOffset - 5, codesAt = list.StreamOffset - 4;

        // Only fillers: no position listed (and, with as many fillers as there were codes, a walk past the end).
        Corrupt("layer 0's list of present weights", f => f.AsSpan(list.StreamOffset, list.StreamLength).Clear());
        Corrupt("layer 0's list of present weights ends with a filler code", f => { f.AsSpan(list.StreamOffset, list.StreamLength).Clear(); BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(countAt), 0); BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(codesAt), 1); });
        // Every code at its largest: the walk runs past the layer.
        Corrupt("runs past the last of its 1200 positions", f => f.AsSpan(list.StreamOffset, list.StreamLength).Fill(0xFF));
        // A value code turned into a filler halfway: one position fewer than announced, or a filler at the end.
        Corrupt("layer 0's list of present weights", f => f[list.StreamOffset + list.StreamLength / 2] = 0);
        // Code widths outside 1..16.
        Corrupt("code width of 0 bits", f => f[bitsAt] = 0);
        Corrupt("code width of 17 bits", f => f[bitsAt] = 17);
        // Lying counts: more positions than the layer has, a code count whose stream is not there.
        Corrupt("announces 1201 positions", f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(countAt), 1201));
        Corrupt("ends inside layer 0's list of present weights", f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(codesAt), uint.MaxValue));
        // The mask's list is checked the same way.
        var mask = layer.Masked!;
        Corrupt("layer 0's list of masked weights", f => f.AsSpan(mask.StreamOffset, mask.StreamLength).Fill(0xFF));
        // A lying metadata length.
        Corrupt("ends inside the metadata", f => BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(SpmlpReferenceReader.Header), int.MaxValue));

        // Any single flipped byte of the stream either decodes to another valid list or is refused: never another exception.
        var rng = new Random(5);
        int loaded = 0, refused = 0;
        for (int t = 0; t < 200; t++)
        {
            var damaged = With(f => f[list.StreamOffset + rng.Next(list.StreamLength)] ^= (byte)(1 << rng.Next(8)));
            try { SpmlpFormat.FromBytes(damaged); loaded++; }
            catch (SparsePruneException e) { Assert.Equal("CorruptModelFile", e.ErrorId); refused++; }
        }
        Assert.True(refused > 0, $"{loaded} loaded, none refused");
    }

    [Fact]
    public void OtherVersionsAreRefused()
    {
        var bytes = SpmlpFormat.ToBytes(Mlp.Create(new[] { 3, 2 }, seed: 77));
        foreach (ushort version in new ushort[] { 0, 5, 0xFFFF })
        {
            var copy = bytes.ToArray();
            BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(8), version);
            var e = TestKit.Throws("UnsupportedModelVersion", () => SpmlpFormat.FromBytes(copy));
            Assert.Contains($"version {version}", e.Message);
        }
    }

    [Theory]
    [InlineData(PruneScope.Layer)]
    [InlineData(PruneScope.Global)]
    public void LeNet300100PrunedTo95PercentIsAtMostAFifteenthOfItsDenseFile(PruneScope scope)
    {
        var model = Mlp.Create(new[] { 784, 300, 100, 10 }, seed: 78, name: "lenet-300-100");
        var dense = SpmlpFormat.ToBytes(model);
        TestKit.Prune(model, 0.95, scope: scope);
        Assert.InRange(model.Weights, 266200 - (long)Math.Floor(0.95 * 266200) - 3, 266200 - (long)Math.Floor(0.95 * 266200) + 3); // per-layer floors differ by a few
        var pruned = SpmlpFormat.ToBytes(model);
        var report = CompressionReport.Create(model, null);
        var file = SpmlpReferenceReader.Parse(pruned);
        _output.WriteLine($"{scope}: dense file {dense.Length} bytes, pruned file {pruned.Length} bytes, ratio {(double)dense.Length / pruned.Length:F2}; " +
            $"StoredBytes {report.StoredBytes}, WeightCompressionRatio {report.WeightCompressionRatio:F2}, CompressionRatio {report.CompressionRatio:F2}; widths {string.Join(",", file.Layers.Select(l => l.Present!.Bits))}; metadata {file.MetadataLength} bytes");
        Assert.True(pruned.Length * 15L <= dense.Length, $"pruned file {pruned.Length} bytes, dense {dense.Length}: ratio {(double)dense.Length / pruned.Length:F2} < 15");
        // The report's ratio is this one: the dense file before pruning over the file now.
        Assert.Equal(pruned.LongLength, report.FileBytes);
        Assert.Equal(dense.LongLength, report.BaselineFileBytes);
        Assert.Equal((double)dense.Length / pruned.Length, report.CompressionRatio);
        RoundTrip(model);
    }

    [Fact]
    public void StoredBytesAreTheWeightBytesOfTheWrittenFile()
    {
        // Every layer pruned by Invoke-Pruning's rule, two of them masked on top.
        var model = Mlp.Create(new[] { 64, 40, 30, 20, 10 }, seed: 79);
        TestKit.Prune(model, 0.7);
        TestKit.Sparsify(model, 0.5, layers: new[] { 0, 2 });
        // Layer 0 pruned and masked, layer 1 pruned, layer 2 masked (dense), layer 3 untouched.
        var mixed = Mlp.Create(new[] { 64, 40, 30, 20, 10 }, seed: 79);
        var rng = new Random(7);
        for (int i = 0; i < 2; i++)
            Delete(mixed, i, Enumerable.Range(0, (int)mixed.State[i].DenseWeights).Select(_ => rng.NextDouble() < 0.7).ToArray());
        TestKit.Sparsify(mixed, 0.5, layers: new[] { 0, 2 });
        Assert.Equal(new[] { LayerStorage.Sparse, LayerStorage.Sparse, LayerStorage.Dense, LayerStorage.Dense }, mixed.Layers.Select(l => l.Stored));
        Assert.Equal(new[] { true, false, true, false }, mixed.State.Select(l => l.Keep is not null));

        foreach (var m in new[] { model, mixed })
        {
            var bytes = SpmlpFormat.ToBytes(m);
            var file = SpmlpReferenceReader.Parse(bytes);
            var report = CompressionReport.Create(m, null);
            var counted = SpmlpFormat.LayerWeightBytes(m);
            for (int i = 0; i < m.LayerCount; i++)
            {
                var l = m.State[i];
                Assert.Equal(file.Layers[i].WeightBytes, report.Layers[i].StoredBytes);
                Assert.Equal(file.Layers[i].WeightBytes, counted[i]);
                Assert.Equal(SpmlpReferenceReader.ExpectedWeightBytes(l.OutFeatures, l.InFeatures, l.Deleted is null ? null : TestKit.Bools(l.Deleted)), report.Layers[i].StoredBytes);
            }
            Assert.Equal(file.Layers.Sum(l => l.WeightBytes), report.StoredBytes);
            Assert.Equal((double)report.BaselineDenseBytes / report.StoredBytes, report.WeightCompressionRatio, 12);
            Assert.Equal(bytes.LongLength, report.FileBytes);
        }
        // Dense layers take exactly their dense bytes; the 70 % pruned ones about a third of them.
        var r = CompressionReport.Create(mixed, null);
        Assert.Equal(r.Layers[3].DenseBytes, r.Layers[3].StoredBytes);
        Assert.Equal(r.Layers[2].DenseBytes, r.Layers[2].StoredBytes);
        Assert.InRange((double)r.Layers[0].StoredBytes / r.Layers[0].DenseBytes, 0.3, 0.42);
    }

    // ---- version 1 --------------------------------------------------------------------------

    /// <summary>The same string as Common.ps1's Get-ModelFingerprint: widths, then the hex of every weight and bias.</summary>
    private static string Fingerprint(Mlp model)
    {
        var parts = new List<string> { string.Join(",", model.Widths) };
        for (int i = 0; i < model.LayerCount; i++)
        {
            parts.Add("W" + Convert.ToHexString(TestKit.W(model, i).SelectMany(BitConverter.GetBytes).ToArray()));
            parts.Add("B" + Convert.ToHexString(model.GetBias(i).SelectMany(BitConverter.GetBytes).ToArray()));
        }
        return string.Join("|", parts);
    }

    [Fact]
    public void AVersion1FileStillLoadsWithTheSameWeightsAndPredictions()
    {
        var bytes = File.ReadAllBytes(TestKit.DataFile("model-v1.spmlp"));
        Assert.Equal(1, (int)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestKit.DataFile("model-v1.expected.json")));
        var expected = json.RootElement;

        var model = SpmlpFormat.Load(TestKit.DataFile("model-v1.spmlp"));
        Assert.Equal(expected.GetProperty("Widths").EnumerateArray().Select(e => e.GetInt32()), model.Widths);
        Assert.Equal(expected.GetProperty("Stored").EnumerateArray().Select(e => e.GetString()), model.Layers.Select(l => l.Stored.ToString()));
        Assert.Equal(expected.GetProperty("Weights").GetInt64(), model.Weights);
        Assert.Equal(expected.GetProperty("NonZeroWeights").GetInt64(), model.NonZeroWeights);
        Assert.Equal(expected.GetProperty("History").EnumerateArray().Select(e => e.GetString()), model.History.Select(h => h.Operation));
        Assert.Equal(expected.GetProperty("Fingerprint").GetString(), Fingerprint(model));
        Assert.All(model.State, l => Assert.NotNull(l.Keep));

        using var reader = new StreamReader(TestKit.DataFile("iris.csv"));
        var table = DatasetLoader.ReadCsvRows(reader).Skip(1).ToList();
        var x = table.SelectMany(r => r.Take(4).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        var predictions = Predictor.Predict(model, x, table.Count).Cast<ClassPrediction>().ToList();
        Assert.Equal(expected.GetProperty("Labels").EnumerateArray().Select(e => e.GetString()), predictions.Select(p => p.Label));
        // The weights load bit for bit (the fingerprint above); the probabilities were recorded when
        // LibTorch multiplied, and the module's own kernels sum in another order: equal to float rounding.
        var recorded = expected.GetProperty("Probabilities").EnumerateArray()
            .Select(e => e.GetString()!.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Equal(recorded.Count, predictions.Count);
        for (int i = 0; i < recorded.Count; i++)
            for (int c = 0; c < recorded[i].Length; c++)
                Assert.True(Math.Abs(recorded[i][c] - predictions[i].Probabilities[c]) <= 1e-6, $"row {i} class {c}: {predictions[i].Probabilities[c]} against {recorded[i][c]}");

        // Written again (as version 2) it is the same model; the masks lifted, the same weights as when it was written.
        var again = RoundTrip(model);
        TestKit.Sparsify(again, 0);
        Assert.Equal(expected.GetProperty("RestoredFingerprint").GetString(), Fingerprint(again));
    }
}
