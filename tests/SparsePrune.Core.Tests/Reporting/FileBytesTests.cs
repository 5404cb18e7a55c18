using System.Buffers.Binary;
using System.Text.Json;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The report's FileBytes is the file Export-Mlp writes, byte for byte, for every version the
/// writer produces and every kind of layer; a model's file is a function of the model; and
/// CompressionRatio is the dense file at baseline over the file now (docs/contract.md, Formulas).
/// </summary>
public class FileBytesTests
{
    /// <summary>A model of each kind, and the format version its file must have.</summary>
    public static TheoryData<string, int> Kinds() => new()
    {
        { "untouched", 2 },
        { "trained, normalized inputs", 2 },
        { "masked (Set-Sparsity)", 2 },
        { "pruned connections", 2 },
        { "removed neurons", 2 },
        { "masked, pruned, neurons removed, masked again", 2 },
        { "k-means 3-bit", 3 },
        { "linear 4-bit", 3 },
        { "power-of-two 3-bit", 3 },
        { "pruned, then k-means 5-bit", 3 },
        { "neurons removed, pruned, masked, per-layer bits", 3 },
        { "one layer quantized", 3 },
    };

    private static Mlp Quantize(Mlp model, QuantizationMethod method, params int[] bits)
    {
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = bits }), null);
        return model;
    }

    private static Mlp Build(string kind)
    {
        var model = Mlp.Create(new[] { 64, 24, 16, 10 }, seed: 23, name: "file-bytes");
        switch (kind)
        {
            case "untouched": break;
            case "trained, normalized inputs":
                Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, BatchSize = 64, Seed = 1 });
                Assert.NotNull(model.FeatureOffset);
                break;
            case "masked (Set-Sparsity)": TestKit.Sparsify(model, 0.6); break;
            case "pruned connections": TestKit.Prune(model, 0.7); break;
            case "removed neurons": TestKit.Prune(model, 0.25, PruneStructure.Neuron); break;
            case "masked, pruned, neurons removed, masked again": return TestKit.WorkedModel(24, "worked");
            case "k-means 3-bit": Quantize(model, QuantizationMethod.KMeans, 3); break;
            case "linear 4-bit": Quantize(model, QuantizationMethod.Linear, 4); break;
            case "power-of-two 3-bit": Quantize(model, QuantizationMethod.PowerOfTwo, 3); break;
            case "pruned, then k-means 5-bit": TestKit.Prune(model, 0.8); Quantize(model, QuantizationMethod.KMeans, 5); break;
            case "neurons removed, pruned, masked, per-layer bits":
                TestKit.Prune(model, 0.25, PruneStructure.Neuron);
                TestKit.Prune(model, 0.5);
                TestKit.Sparsify(model, 0.5, layers: new[] { 0, 1 });
                Quantize(model, QuantizationMethod.Linear, 4, 3, 8);
                break;
            case "one layer quantized":
                TestKit.Prune(model, 0.6);
                Quantize(model, QuantizationMethod.KMeans, 5);
                model.State[0].Quantization = null;
                model.State[2].Quantization = null;
                break;
            default: throw new ArgumentException(kind);
        }
        return model;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void FileBytesIsTheLengthOfTheWrittenFile(string kind, int version)
    {
        var model = Build(kind);
        var report = CompressionReport.Create(model, null);
        var dir = TestKit.TempDir();
        try
        {
            var path = Path.Combine(dir, "model.spmlp");
            SpmlpFormat.Save(model, path, force: false);
            var written = File.ReadAllBytes(path);
            Assert.Equal(version, BinaryPrimitives.ReadUInt16LittleEndian(written.AsSpan(8)));
            Assert.Equal(new FileInfo(path).Length, report.FileBytes);
            // The same bytes, not just as many: the report measures the file it would write.
            Assert.Equal(written, SpmlpFormat.ToBytes(model));
            Assert.Equal(written.LongLength, SpmlpFormat.FileBytes(model));
            // What was written reads back with its baseline file and its weights' bytes; its own
            // FileBytes is its file (which may differ by the data set's name: a loaded model has no data set).
            var back = SpmlpFormat.Load(path);
            var again = CompressionReport.Create(back, null);
            if (model.Baseline is not null) Assert.Equal(report.BaselineFileBytes, again.BaselineFileBytes);
            Assert.Equal(report.StoredBytes, again.StoredBytes);
            Assert.Equal(SpmlpFormat.ToBytes(back).LongLength, again.FileBytes);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CompressionRatioIsTheBaselineFileOverTheFile(string kind, int version)
    {
        _ = version;
        var model = Build(kind);
        var report = CompressionReport.Create(model, null);
        long reference = model.Baseline?.FileBytes ?? SpmlpFormat.DenseFileBytes(model, model.Widths);
        Assert.Equal(reference, report.BaselineFileBytes);
        Assert.Equal((double)reference / report.FileBytes, report.CompressionRatio);
        Assert.Equal((double)report.BaselineDenseBytes / report.StoredBytes, report.WeightCompressionRatio);
        // The weights-only ratio leaves out the metadata, header and fixed fields, which the file ratio counts.
        if (model.Baseline is not null) Assert.True(report.CompressionRatio < report.WeightCompressionRatio, $"{report.CompressionRatio} vs {report.WeightCompressionRatio}");
    }

    [Fact]
    public void OneModelWrittenTwiceAtDifferentTimesGivesTheSameBytes()
    {
        var model = TestKit.WorkedModel(25, "twice");
        Quantize(model, QuantizationMethod.KMeans, 4);
        var first = SpmlpFormat.ToBytes(model);
        // The clock moves on (the save time was the wall clock once, and its length varied with it).
        var before = DateTime.UtcNow;
        while (DateTime.UtcNow <= before.AddMilliseconds(2)) Thread.Sleep(1);
        Assert.Equal(first, SpmlpFormat.ToBytes(model));
        Assert.Equal(first.LongLength, CompressionReport.Create(model, null).FileBytes);
        // Another copy of the model (another object, the same model) gives the same file.
        Assert.Equal(first, SpmlpFormat.ToBytes(model.Clone()));
        // The metadata's time is the model's last change, not the moment of writing.
        var json = JsonDocument.Parse(SpmlpReferenceReader.Parse(first).MetadataJson).RootElement;
        Assert.Equal(model.History[^1].Time, json.GetProperty("Saved").GetDateTime());
        var fresh = Mlp.Create(new[] { 4, 3, 2 }, seed: 26);
        var freshJson = JsonDocument.Parse(SpmlpReferenceReader.Parse(SpmlpFormat.ToBytes(fresh)).MetadataJson).RootElement;
        Assert.Equal(DateTime.UnixEpoch, freshJson.GetProperty("Saved").GetDateTime());
    }

    [Fact]
    public void APruneThenQuantizeModelsRatioIsItsDenseFileOverItsFile()
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 27, name: "prune-quantize");
        Trainer.Train(model, data, new TrainingOptions { Epochs = 1, BatchSize = 64, Seed = 2 });
        var dense = SpmlpFormat.ToBytes(model);
        Assert.Equal(1.0, CompressionReport.Create(model, null).CompressionRatio);
        Pruner.Apply(model, Pruner.Plan(model, new PruningRequest { Ratio = 0.9 }), data);
        Assert.Equal(dense.LongLength, model.Baseline!.FileBytes);
        Quantize(model, QuantizationMethod.KMeans, 3);
        var now = SpmlpFormat.ToBytes(model);
        var report = CompressionReport.Create(model, data);
        Assert.Equal(now.LongLength, report.FileBytes);
        Assert.Equal(dense.LongLength, report.BaselineFileBytes);
        Assert.Equal((double)dense.Length / now.Length, report.CompressionRatio);
        Assert.True(report.CompressionRatio > 5, $"{report.CompressionRatio}");
        // The baseline (with its file size) travels in the file.
        var back = SpmlpFormat.FromBytes(now);
        Assert.Equal(dense.LongLength, back.Baseline!.FileBytes);
        Assert.Equal((double)dense.Length / SpmlpFormat.ToBytes(back).Length, CompressionReport.Create(back, null).CompressionRatio);
    }

    [Fact]
    public void TheDenseFileCountIsTheLengthOfADenseModelsFile()
    {
        // The fallback for baselines that did not record their file: counted, and exact where a dense file exists to compare.
        foreach (var kind in new[] { "untouched", "trained, normalized inputs" })
        {
            var model = Build(kind);
            Assert.Equal(SpmlpFormat.ToBytes(model).LongLength, SpmlpFormat.DenseFileBytes(model, model.Widths));
            Assert.Equal(1.0, CompressionReport.Create(model, null).CompressionRatio);
            // With a baseline (in the metadata) that has no file size, as a file of an earlier release has.
            var b = new ModelBaseline { Time = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), Widths = model.Widths,
                LayerWeights = model.State.Select(l => l.DenseWeights).ToArray(), LayerNeurons = model.State.Select(l => l.OutFeatures).ToArray() };
            model.Baseline = b;
            Assert.Equal(SpmlpFormat.ToBytes(model).LongLength, SpmlpFormat.BaselineFileBytes(model));
            Assert.Equal(1.0, CompressionReport.Create(model, null).CompressionRatio);
        }
    }

    [Theory]
    [InlineData("model-v2.spmlp")]
    [InlineData("model-v3-kmeans.spmlp")]
    [InlineData("model-onnx-sparse.onnx")]
    [InlineData("model-safetensors.safetensors")]
    public void FilesOfEarlierReleasesAndImportsCountTheDenseFileOfTheBaselineShapes(string name)
    {
        var model = ModelFile.Load(TestKit.DataFile(name));
        Assert.Null(model.Baseline?.FileBytes);
        var report = CompressionReport.Create(model, null);
        Assert.Equal(SpmlpFormat.DenseFileBytes(model, model.Baseline?.Widths ?? model.Widths), report.BaselineFileBytes);
        Assert.Equal(SpmlpFormat.ToBytes(model).LongLength, report.FileBytes);
        Assert.Equal((double)report.BaselineFileBytes / report.FileBytes, report.CompressionRatio);
    }

    [Fact]
    public void AModelTheWriterRefusesHasNoFileBytesAndItsReportStillComes()
    {
        var model = Quantize(Mlp.Create(new[] { 12, 8, 3 }, seed: 28), QuantizationMethod.KMeans, 3);
        var w = TestKit.W(model, 0);
        int k = Array.FindIndex(w, v => v != 0);
        w[k] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w[k]) + 1);
        TestKit.SetWeight(model, 0, w);
        Assert.Throws<InvalidOperationException>(() => SpmlpFormat.ToBytes(model));
        var report = CompressionReport.Create(model, null);
        Assert.Equal(0, report.FileBytes);
        Assert.Equal(0, report.CompressionRatio);
        Assert.True(report.WeightCompressionRatio > 0);
    }
}
