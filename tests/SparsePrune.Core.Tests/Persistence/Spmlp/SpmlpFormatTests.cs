using System.Text;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Model files: bytes and file round trips keep every tensor, flag, baseline, history record,
/// class name and normalization statistic; predictions on raw rows are bit-identical;
/// damaged files are recognized; saving is atomic and never silently overwrites.
/// </summary>
public class SpmlpFormatTests
{
    private static Mlp WorkedModel() => TestKit.WorkedModel(61, "iris-worked");

    private static float[] RawIrisRows(out int rows)
    {
        using var stream = typeof(Mlp).Assembly.GetManifestResourceStream("SparsePrune.Data.iris.csv")!;
        using var reader = new StreamReader(stream);
        var table = DatasetLoader.ReadCsvRows(reader).Skip(1).ToList();
        rows = table.Count;
        return table.SelectMany(r => r.Take(4).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
    }

    private static void AssertSameModel(Mlp expected, Mlp actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Activation, actual.Activation);
        Assert.Equal(expected.Task, actual.Task);
        Assert.Equal(expected.Seed, actual.Seed);
        Assert.Equal(expected.Widths, actual.Widths);
        TestKit.SameStateIgnoringReferences(TestKit.Snap(expected), actual);

        Assert.Equal(expected.ClassNames, actual.ClassNames);
        Assert.Equal(expected.FeatureNames, actual.FeatureNames);
        Assert.Equal(expected.InputNormalization, actual.InputNormalization);
        TestKit.BitEqual(expected.FeatureOffset!, actual.FeatureOffset!, "offset");
        TestKit.BitEqual(expected.FeatureScale!, actual.FeatureScale!, "scale");

        var eb = expected.Baseline!;
        var ab = actual.Baseline!;
        Assert.NotNull(ab);
        Assert.Equal(eb.Widths, ab.Widths);
        Assert.Equal(eb.LayerWeights, ab.LayerWeights);
        Assert.Equal(eb.LayerNeurons, ab.LayerNeurons);
        Assert.Equal(eb.MetricName, ab.MetricName);
        Assert.Equal(eb.Metric, ab.Metric);
        Assert.Equal(eb.DatasetName, ab.DatasetName);
        Assert.Equal(eb.Time, ab.Time);

        Assert.Equal(expected.History.Count, actual.History.Count);
        for (int i = 0; i < expected.History.Count; i++)
            Assert.Equal(expected.History[i], actual.History[i]); // record equality: every field
    }

    [Fact]
    public void BytesRoundTripKeepsEverything()
    {
        var model = WorkedModel();
        Assert.All(Enumerable.Range(0, 3), l => Assert.NotNull(model.State[l].Keep));
        Assert.Contains(model.State, l => l.Deleted is not null);
        Assert.Equal(5, model.History.Count);

        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        AssertSameModel(model, copy);

        // Predictions on raw rows are bit-identical.
        var x = RawIrisRows(out int rows);
        var p1 = Predictor.Predict(model, x, rows).Cast<ClassPrediction>().ToList();
        var p2 = Predictor.Predict(copy, x, rows).Cast<ClassPrediction>().ToList();
        Assert.Equal(rows, p2.Count);
        for (int i = 0; i < rows; i++)
        {
            Assert.Equal(p1[i].Label, p2[i].Label);
            Assert.Equal(p1[i].Probabilities.Select(BitConverter.DoubleToInt64Bits), p2[i].Probabilities.Select(BitConverter.DoubleToInt64Bits));
        }
        Assert.Contains(p2, p => p.Label == "virginica");

        // The hidden values come back in the copy exactly as in the original.
        TestKit.Sparsify(model, 0);
        TestKit.Sparsify(copy, 0);
        for (int l = 0; l < model.LayerCount; l++) TestKit.BitEqual(TestKit.W(model, l), TestKit.W(copy, l), $"layer {l} restored");
    }

    [Fact]
    public void RoundTripOfAFreshModelAndOfARegressor()
    {
        var fresh = Mlp.Create(new[] { 5, 4, 2 }, seed: 62);
        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(fresh));
        Assert.Null(copy.Baseline);
        Assert.Null(copy.ClassNames);
        Assert.Empty(copy.History);
        TestKit.SameStateIgnoringReferences(TestKit.Snap(fresh), copy);

        var reg = Mlp.Create(new[] { 10, 6, 1 }, seed: 63);
        Trainer.Train(reg, TestKit.Synthetic, new TrainingOptions { Epochs = 1, Seed = 2 });
        var regCopy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(reg));
        var x = TestKit.RandomRows(20, 10, 3, 2.0);
        var a = Predictor.Predict(reg, x, 20).Cast<RegressionPrediction>().Select(p => BitConverter.DoubleToInt64Bits(p.Value));
        var b = Predictor.Predict(regCopy, x, 20).Cast<RegressionPrediction>().Select(p => BitConverter.DoubleToInt64Bits(p.Value));
        Assert.Equal(a, b);
        Assert.Equal(Normalization.Standard, regCopy.InputNormalization);
    }

    [Fact]
    public void TruncatedBytesAreReportedAsTruncated()
    {
        var bytes = SpmlpFormat.ToBytes(WorkedModel());
        foreach (int length in new[] { 8, 12, 20, 23, 24, 100, bytes.Length / 2, bytes.Length - 32, bytes.Length - 1 })
            TestKit.Throws("TruncatedModelFile", () => SpmlpFormat.FromBytes(bytes.AsSpan(0, length).ToArray()));
    }

    [Fact]
    public void AFileCutInsideTheSignatureIsTruncated()
    {
        // The bytes that are there are the start of the .spmlp signature: the file was cut
        // short, it is not a foreign file.
        var bytes = SpmlpFormat.ToBytes(Mlp.Create(new[] { 3, 2, 2 }, seed: 66));
        foreach (int length in new[] { 4, 6, 7 })
            TestKit.Throws("TruncatedModelFile", () => SpmlpFormat.FromBytes(bytes.AsSpan(0, length).ToArray()));
    }

    [Fact]
    public void ForeignBytesAreNotAModelFile()
    {
        TestKit.Throws("NotAModelFile", () => SpmlpFormat.FromBytes(Encoding.UTF8.GetBytes("sepal_length,sepal_width\n5.1,3.5\n")));
        TestKit.Throws("NotAModelFile", () => SpmlpFormat.FromBytes(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }));
        var random = new byte[4096];
        new Random(1).NextBytes(random);
        TestKit.Throws("NotAModelFile", () => SpmlpFormat.FromBytes(random));
        TestKit.Throws("NotAModelFile", () => SpmlpFormat.FromBytes(Array.Empty<byte>()));
    }

    [Fact]
    public void OneFlippedPayloadByteIsCorrupt()
    {
        var bytes = SpmlpFormat.ToBytes(WorkedModel());
        const int header = 24, hash = 32;
        int payload = bytes.Length - header - hash;
        foreach (int offset in new[] { 0, 3, 17, payload / 3, payload / 2, payload - 1 })
        {
            var damaged = bytes.ToArray();
            damaged[header + offset] ^= 0x10;
            TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(damaged));
        }
        // A damaged checksum is corrupt too.
        var badHash = bytes.ToArray();
        badHash[^1] ^= 0x01;
        TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(badHash));
        // Bytes after the end.
        TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(bytes.Concat(new byte[] { 0 }).ToArray()));
    }

    [Fact]
    public void SaveLoadAndForce()
    {
        var dir = TestKit.TempDir();
        try
        {
            var model = WorkedModel();
            var path = Path.Combine(dir, "model.spmlp");
            SpmlpFormat.Save(model, path, force: false);
            Assert.Equal(new[] { "model.spmlp" }, Directory.GetFiles(dir).Select(Path.GetFileName));
            var loaded = SpmlpFormat.Load(path);
            AssertSameModel(model, loaded);

            // No overwrite without force: error, and the file is unchanged.
            var onDisk = File.ReadAllBytes(path);
            var other = Mlp.Create(new[] { 4, 3, 3 }, seed: 64, name: "other");
            TestKit.Throws("ModelFileExists", () => SpmlpFormat.Save(other, path, force: false));
            Assert.Equal(onDisk, File.ReadAllBytes(path));
            Assert.Equal("iris-worked", SpmlpFormat.Load(path).Name);

            // With force it is replaced.
            SpmlpFormat.Save(other, path, force: true);
            var replaced = SpmlpFormat.Load(path);
            Assert.Equal("other", replaced.Name);
            Assert.Equal(new[] { 4, 3, 3 }, replaced.Widths);
            TestKit.SameStateIgnoringReferences(TestKit.Snap(other), replaced);

            // No temporary files are left behind.
            Assert.Equal(new[] { "model.spmlp" }, Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Empty(Directory.GetDirectories(dir));

            TestKit.Throws("ModelFileNotFound", () => SpmlpFormat.Load(Path.Combine(dir, "missing.spmlp")));
            TestKit.Throws("PathIsDirectory", () => SpmlpFormat.Save(other, dir, force: true));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LoadingADamagedFileGivesTheSameErrors()
    {
        var dir = TestKit.TempDir();
        try
        {
            var bytes = SpmlpFormat.ToBytes(Mlp.Create(new[] { 3, 2, 2 }, seed: 65));
            var truncated = Path.Combine(dir, "t.spmlp");
            File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length - 5).ToArray());
            TestKit.Throws("TruncatedModelFile", () => SpmlpFormat.Load(truncated));
            var foreign = Path.Combine(dir, "f.spmlp");
            File.WriteAllText(foreign, "not a model");
            TestKit.Throws("NotAModelFile", () => SpmlpFormat.Load(foreign));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CloneIsIndependent()
    {
        var model = WorkedModel();
        var clone = model.Clone("copy");
        TestKit.SameStateIgnoringReferences(TestKit.Snap(model), clone);
        TestKit.Sparsify(clone, 0.9);
        Trainer.Train(clone, TestKit.Iris, new TrainingOptions { Epochs = 1, Seed = 3 });
        Assert.NotEqual(model.History.Count, clone.History.Count);
        Assert.NotEqual(TestKit.Bits(TestKit.W(model, 0)), TestKit.Bits(TestKit.W(clone, 0)));
        Assert.Equal("iris-worked", model.Name);
    }
}
