using System.Text;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// What sweeps send between processes and keep in files: points, results and data sets must
/// come back exactly as they went (workers and shards must agree bit for bit), and damaged
/// bytes must be refused with the module's own errors.
/// </summary>
public class SweepTests
{
    private static SweepPoint Point(int index = 3) => new()
    {
        Index = index, Seed = 7, Script = "$_ | Set-Sparsity -Sparsity 0.5",
        Settings = new[]
        {
            new SweepParameter("Ratio", SweepStep.Pruning, "Ratio", 0.1 + 0.2),
            new SweepParameter("Structure", SweepStep.Pruning, "Structure", "Neuron"),
            new SweepParameter("Layer", SweepStep.Pruning, "Layer", new object?[] { 0, 1 }),
            new SweepParameter("Quantization.FineTuneEpochs", SweepStep.Quantization, "FineTuneEpochs", 2),
            new SweepParameter("Whole", SweepStep.Pruning, "Whole", 1.0),
            new SweepParameter("Flag", SweepStep.Pruning, "Flag", true),
            new SweepParameter("Big", SweepStep.Pruning, "Big", 1L << 40),
        },
    };

    [Fact]
    public void PointsComeBackWithTheSameValuesAndTypes()
    {
        var back = SweepPoint.FromJson(Point().ToJson());
        Assert.Equal(3, back.Index);
        Assert.Equal(7, back.Seed);
        Assert.Equal("$_ | Set-Sparsity -Sparsity 0.5", back.Script);
        var values = back.Settings.Select(p => p.Value).ToArray();
        Assert.Equal(0.1 + 0.2, Assert.IsType<double>(values[0])); // 0.30000000000000004, every bit
        Assert.Equal("Neuron", values[1]);
        Assert.Equal(new object?[] { 0, 1 }, Assert.IsType<object?[]>(values[2]));
        Assert.Equal(2, Assert.IsType<int>(values[3]));
        Assert.Equal(1.0, Assert.IsType<double>(values[4])); // a double stays a double though whole
        Assert.True(Assert.IsType<bool>(values[5]));
        Assert.Equal(1L << 40, Assert.IsType<long>(values[6]));
        Assert.Equal(SweepStep.Quantization, back.Settings[3].Step);
        Assert.Equal("FineTuneEpochs", back.Settings[3].Binds);
        Assert.Equal(Point().Describe(), back.Describe());
        Assert.Equal("Ratio=0.30000000000000004; Structure=Neuron; Layer=0,1; Quantization.FineTuneEpochs=2; Whole=1; Flag=true; Big=1099511627776; Script={$_ | Set-Sparsity -Sparsity 0.5}", back.Describe());
    }

    [Fact]
    public void ResultsComeBackBitIdenticalWithTheirLayers()
    {
        var model = Mlp.Create(new[] { 8, 6, 3 }, Activation.ReLU, seed: 5);
        var report = CompressionReport.Create(model, null);
        var result = SweepResult.Create("abc123", 9, Point(), report, 0.1 + 0.7, Math.PI, 2, "host", "process 1 of 2")
            .WithAttempts(2, "worker process 2 of 2 was lost");
        var back = SweepResult.FromJson(result.ToJson());
        foreach (var property in typeof(SweepResult).GetProperties().Where(p => p.Name != nameof(SweepResult.Model)))
            Assert.Equal(property.GetValue(result), property.GetValue(back));
        Assert.Equal(report.Layers.Count, back.Layers.Count);
        for (int i = 0; i < report.Layers.Count; i++)
            foreach (var property in typeof(LayerReport).GetProperties())
                Assert.Equal(property.GetValue(report.Layers[i]), property.GetValue(back.Layers[i]));
        Assert.Equal(report.CompressionRatio, back.ToReport().CompressionRatio);
        Assert.Equal(report.FileBytes, back.FileBytes);
        Assert.Equal(report.BaselineFileBytes, back.ToReport().BaselineFileBytes);
        Assert.True(back.FileBytes > 0);
        Assert.Equal(result.ToJson(), back.ToJson());
    }

    [Fact]
    public void AResultFileWrittenBeforeResultsCarriedTheFileStillReads()
    {
        var model = Mlp.Create(new[] { 64, 32, 10 }, Activation.ReLU, seed: 6);
        TestKit.Prune(model, 0.9);
        var result = SweepResult.Create("abc123", 9, Point(), CompressionReport.Create(model, null), null, 1, 1, "host", "session");
        // The file as the previous release wrote it: no fileBytes or baselineFileBytes among the counts.
        var json = System.Text.Json.Nodes.JsonNode.Parse(result.ToJson())!.AsObject();
        var counts = json["counts"]!.AsObject();
        Assert.True(counts.Remove("fileBytes") && counts.Remove("baselineFileBytes"));
        var old = SweepResult.FromJson(json.ToJsonString());
        Assert.Equal(0, old.FileBytes);
        Assert.Equal(0, old.CompressionRatio); // unknown, not the weights-only ratio under the file's name
        Assert.Equal(result.WeightCompressionRatio, old.WeightCompressionRatio);
        Assert.Equal(result.StoredBytes, old.StoredBytes);
        Assert.True(result.CompressionRatio > 1);
    }

    [Fact]
    public void ResultFilesAreWrittenOnceAndRefusedWhenDamaged()
    {
        var dir = Directory.CreateTempSubdirectory("sweep-results").FullName;
        try
        {
            var report = CompressionReport.Create(Mlp.Create(new[] { 4, 3, 2 }, Activation.ReLU, seed: 1), null);
            var result = SweepResult.Create("id", 5, Point(3), report, null, 1, 1, "h", "session");
            var path = SweepResultFile.Write(dir, result);
            Assert.Equal("point-0003.json", Path.GetFileName(path));
            Assert.Equal(result.ToJson(), SweepResultFile.TryRead(dir, 3)!.ToJson());
            Assert.Null(SweepResultFile.TryRead(dir, 4));
            TestKit.Throws("SweepResultExists", () => SweepResultFile.Write(dir, result));
            Assert.Equal(new[] { "point-0003.json" }, Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal(new[] { 0, 1, 2, 4 }, SweepResultFile.Missing(SweepResultFile.ReadAll(dir), "dir"));

            File.Move(path, Path.Combine(dir, "point-0001.json"));
            TestKit.Throws("CorruptSweepResult", () => SweepResultFile.ReadAll(dir));
            File.WriteAllBytes(Path.Combine(dir, "point-0001.json"), new byte[] { 0xFF, 0xFE, 0x00 });
            TestKit.Throws("CorruptSweepResult", () => SweepResultFile.ReadAll(dir));
            File.WriteAllText(Path.Combine(dir, "point-0001.json"), result.ToJson().Replace("\"version\": 1", "\"version\": 9"));
            TestKit.Throws("UnsupportedSweepResult", () => SweepResultFile.ReadAll(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MixedSweepsAndRepeatedPointsAreRefused()
    {
        var report = CompressionReport.Create(Mlp.Create(new[] { 4, 3, 2 }, Activation.ReLU, seed: 1), null);
        var a = SweepResult.Create("one", 3, Point(0), report, null, 1, 1, "h", "session");
        var b = SweepResult.Create("two", 3, Point(1), report, null, 1, 1, "h", "session");
        TestKit.Throws("MixedSweeps", () => SweepResultFile.Missing(new[] { a, b }, "here"));
        TestKit.Throws("DuplicateSweepPoint", () => SweepResultFile.Missing(new[] { a, a }, "here"));
    }

    [Fact]
    public void DataSetsComeBackBitIdentical()
    {
        foreach (var data in new[] { TestKit.Digits, TestKit.Iris, TestKit.Synthetic })
        {
            var back = DatasetBytes.FromBytes(DatasetBytes.ToBytes(data));
            Assert.Equal(data.Name, back.Name);
            Assert.Equal(data.Task, back.Task);
            Assert.Equal(data.FeatureNames, back.FeatureNames);
            Assert.Equal(data.ClassNames, back.ClassNames);
            Assert.Equal(data.Normalization, back.Normalization);
            Assert.Equal(data.Source, back.Source);
            foreach (var (x, y) in new[] { (data.TrainX, back.TrainX), (data.TrainY, back.TrainY), (data.TestX, back.TestX), (data.TestY, back.TestY), (data.Offset, back.Offset), (data.Scale, back.Scale) })
                Assert.Equal(Bits(x), Bits(y));
            Assert.Equal(DatasetBytes.ToBytes(data), DatasetBytes.ToBytes(back));
        }
    }

    [Fact]
    public void DamagedDataSetBytesAreRefused()
    {
        var bytes = DatasetBytes.ToBytes(TestKit.Iris);
        TestKit.Throws("CorruptDatasetBytes", () => DatasetBytes.FromBytes(bytes[..^4]));
        TestKit.Throws("CorruptDatasetBytes", () => DatasetBytes.FromBytes(bytes.Concat(new byte[4]).ToArray()));
        TestKit.Throws("CorruptDatasetBytes", () => DatasetBytes.FromBytes(Encoding.ASCII.GetBytes("SPDSET1\n")));
        var huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(huge, 8);
        TestKit.Throws("CorruptDatasetBytes", () => DatasetBytes.FromBytes(huge));
        var text = Encoding.UTF8.GetString(bytes, 12, BitConverter.ToInt32(bytes, 8));
        var lying = Encoding.UTF8.GetBytes(text.Replace("\"Train\":", "\"Train\":1").Replace("\"Test\":", "\"Test\":9"));
        var relabelled = bytes[..8].Concat(BitConverter.GetBytes(lying.Length)).Concat(lying).Concat(bytes[(12 + text.Length)..]).ToArray();
        TestKit.Throws("CorruptDatasetBytes", () => DatasetBytes.FromBytes(relabelled));
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
