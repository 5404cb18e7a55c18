using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Data sets: the built-in sets' shapes and splits, standardization with train statistics,
/// CSV parsing and its errors, IDX folders written here byte by byte.
/// </summary>
public class DatasetTests
{
    private static List<float[]> DigitsRawRows()
    {
        using var stream = typeof(Mlp).Assembly.GetManifestResourceStream("SparsePrune.Data.digits.csv.gz")!;
        using var gz = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var rows = new List<float[]>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
            if (line.Length > 0) rows.Add(line.Split(',').Select(float.Parse).ToArray());
        return rows;
    }

    [Theory]
    [InlineData(2, 10)]
    [InlineData(1, 4)]
    [InlineData(1, 10)]
    [InlineData(33, 100)]
    [InlineData(0, 1)]
    public void DigitsHas64Features10ClassesAndSplitsByTestFraction(int p, int q)
    {
        var raw = DigitsRawRows();
        Assert.Equal(1797, raw.Count);
        var data = DatasetLoader.Digits(new DatasetOptions { TestFraction = (double)p / q, Seed = 1 });
        Assert.Equal("Digits", data.Name);
        Assert.Equal(TaskKind.Classification, data.Task);
        Assert.Equal(64, data.Features);
        Assert.Equal(10, data.Classes);
        Assert.Equal(raw.Count * p / q, data.TestCount);
        Assert.Equal(raw.Count - raw.Count * p / q, data.TrainCount);
        Assert.Equal(data.TrainCount * 64, data.TrainX.Length);
        Assert.Equal(data.TestCount * 64, data.TestX.Length);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), data.ClassNames);
    }

    [Fact]
    public void DigitsSplitIsAPermutationOfTheRawRows()
    {
        var raw = DigitsRawRows();
        var data = DatasetLoader.Digits(new DatasetOptions { Normalization = Normalization.None, Seed = 3 });
        string Key(IEnumerable<float> v) => string.Join(",", v);
        var expected = raw.Select(r => Key(r)).OrderBy(s => s, StringComparer.Ordinal).ToList();
        var actual = new List<string>();
        for (int i = 0; i < data.TrainCount; i++) actual.Add(Key(data.TrainX.Skip(i * 64).Take(64).Append(data.TrainY[i])));
        for (int i = 0; i < data.TestCount; i++) actual.Add(Key(data.TestX.Skip(i * 64).Take(64).Append(data.TestY[i])));
        Assert.Equal(expected, actual.OrderBy(s => s, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherSplit()
    {
        var a = DatasetLoader.Digits(new DatasetOptions { Seed = 5 });
        var b = DatasetLoader.Digits(new DatasetOptions { Seed = 5 });
        var c = DatasetLoader.Digits(new DatasetOptions { Seed = 6 });
        Assert.Equal(TestKit.Bits(a.TrainX), TestKit.Bits(b.TrainX));
        Assert.Equal(a.TestY, b.TestY);
        Assert.NotEqual(a.TestY, c.TestY);
    }

    [Fact]
    public void StandardizationUsesTrainSplitStatistics()
    {
        var raw = DatasetLoader.Digits(new DatasetOptions { Normalization = Normalization.None, Seed = 9 });
        var std = DatasetLoader.Digits(new DatasetOptions { Normalization = Normalization.Standard, Seed = 9 });
        Assert.Equal(Normalization.Standard, std.Normalization);
        Assert.Equal(raw.TrainY, std.TrainY);
        Assert.Equal(raw.TestY, std.TestY);
        int f = 64, n = raw.TrainCount, m = raw.TestCount;
        int constant = 0;
        for (int j = 0; j < f; j++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += raw.TrainX[i * f + j];
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) var += Math.Pow(raw.TrainX[i * f + j] - mean, 2);
            double sd = Math.Sqrt(var / n);

            // The standardized train column has mean 0 and standard deviation 1 (or is all 0 when constant).
            double zMean = 0, zVar = 0;
            for (int i = 0; i < n; i++) zMean += std.TrainX[i * f + j];
            zMean /= n;
            for (int i = 0; i < n; i++) zVar += Math.Pow(std.TrainX[i * f + j] - zMean, 2);
            double zSd = Math.Sqrt(zVar / n);
            Assert.InRange(zMean, -1e-4, 1e-4);
            if (sd < 1e-9) { constant++; Assert.Equal(0.0, zSd, 9); }
            else Assert.InRange(zSd, 1 - 1e-3, 1 + 1e-3);

            // Train and test rows are mapped with the train statistics.
            double scale = sd < 1e-9 ? 1 : sd;
            for (int i = 0; i < m; i++)
            {
                double expected = (raw.TestX[i * f + j] - mean) / scale;
                Assert.InRange(std.TestX[i * f + j], expected - 1e-4, expected + 1e-4);
            }
            Assert.InRange(std.Offset[j], mean - 1e-4, mean + 1e-4);
        }
        Assert.True(constant >= 1); // pixel_0_0 is blank in every digit
        // The test split is not re-centred on its own statistics.
        double testMean = Enumerable.Range(0, m).Average(i => (double)std.TestX[i * f + 20]);
        Assert.NotEqual(0.0, testMean, 3);
    }

    [Fact]
    public void MinMaxMapsTheTrainSplitToZeroOne()
    {
        var data = DatasetLoader.Iris(new DatasetOptions { Normalization = Normalization.MinMax, Seed = 2 });
        for (int j = 0; j < 4; j++)
        {
            var column = Enumerable.Range(0, data.TrainCount).Select(i => data.TrainX[i * 4 + j]).ToArray();
            Assert.Equal(0f, column.Min(), 6);
            Assert.Equal(1f, column.Max(), 6);
        }
    }

    [Fact]
    public void IrisHasThreeTextClasses()
    {
        var data = DatasetLoader.Iris(new DatasetOptions());
        Assert.Equal(TaskKind.Classification, data.Task);
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, data.ClassNames);
        Assert.Equal(3, data.Classes);
        Assert.Equal(new[] { "sepal_length", "sepal_width", "petal_length", "petal_width" }, data.FeatureNames);
        Assert.Equal(150, data.TrainCount + data.TestCount);
        Assert.Equal(30, data.TestCount);
        var all = data.TrainY.Concat(data.TestY).ToArray();
        for (int c = 0; c < 3; c++) Assert.Equal(50, all.Count(y => y == c));
    }

    [Fact]
    public void SyntheticIsATenFeatureRegression()
    {
        var data = DatasetLoader.Synthetic(new DatasetOptions { Normalization = Normalization.None, Seed = 4 });
        Assert.Equal(TaskKind.Regression, data.Task);
        Assert.Equal(10, data.Features);
        Assert.Equal(0, data.Classes);
        Assert.Equal(DatasetLoader.SyntheticRows, data.TrainCount + data.TestCount);
        Assert.Equal(DatasetLoader.SyntheticRows / 5, data.TestCount);
        // y = 2 x0 − 1.5 x1 + x2 x3 + 0.5 x4² + small noise; x5..x9 do not matter.
        for (int i = 0; i < data.TrainCount; i++)
        {
            var x = data.TrainX.AsSpan(i * 10, 10);
            double clean = 2 * x[0] - 1.5 * x[1] + x[2] * x[3] + 0.5 * x[4] * x[4];
            Assert.InRange(data.TrainY[i] - clean, -0.7, 0.7);
        }
        var again = DatasetLoader.Synthetic(new DatasetOptions { Normalization = Normalization.None, Seed = 4 });
        Assert.Equal(TestKit.Bits(data.TrainX), TestKit.Bits(again.TrainX));
        TestKit.Throws("TaskNotSupported", () => DatasetLoader.Synthetic(new DatasetOptions { Task = TaskKind.Classification }));
    }

    [Fact]
    public void GetByNameAndUnknownName()
    {
        Assert.Equal("Iris", DatasetLoader.Get("iris", new DatasetOptions()).Name);
        Assert.Equal(64, DatasetLoader.Get("Digits", new DatasetOptions()).Features);
        TestKit.Throws("UnknownDataset", () => DatasetLoader.Get("Cifar", new DatasetOptions()));
    }

    // ---- CSV ----------------------------------------------------------------------------

    private static Dataset Csv(string text, string? target = null, DatasetOptions? options = null)
    {
        var dir = TestKit.TempDir();
        try
        {
            var path = Path.Combine(dir, "data.csv");
            File.WriteAllText(path, text);
            return DatasetLoader.FromCsv(path, target, options ?? new DatasetOptions { TestFraction = 0 });
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("a,b,y\n1,2,x\n3,NaN,y\n5,6,x\n")]
    [InlineData("a,b,y\n1,2,x\n3,abc,y\n5,6,x\n")]
    [InlineData("a,b,y\n1,2,x\n3,,y\n5,6,x\n")]
    [InlineData("a,b,y\n1,2,x\n3,Infinity,y\n5,6,x\n")]
    [InlineData("a,b,y\n1,2,x\n3,1e999,y\n5,6,x\n")]
    public void BadFeatureValuesAreInvalidFeatureValue(string text)
    {
        var e = TestKit.Throws("InvalidFeatureValue", () => Csv(text));
        Assert.Contains("row 2", e.Message);
        Assert.Equal(ErrorKind.InvalidData, e.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b,y\n")]
    [InlineData("\n\n")]
    public void EmptyCsvIsEmptyDataset(string text)
    {
        TestKit.Throws("EmptyDataset", () => Csv(text));
    }

    [Fact]
    public void RaggedRowsAndMissingTargetColumnAreReported()
    {
        TestKit.Throws("RaggedRow", () => Csv("a,b,y\n1,2,x\n3,4\n"));
        TestKit.Throws("TargetColumnNotFound", () => Csv("a,b,y\n1,2,x\n3,4,y\n", "label"));
    }

    [Fact]
    public void CsvTargetsMakeClassesOrARegression()
    {
        var none = new DatasetOptions { TestFraction = 0, Normalization = Normalization.None };
        var text = Csv("a,label,b\n1,cat,2\n3,dog,4\n5,cat,6\n7,bird,8\n", "label", none);
        Assert.Equal(TaskKind.Classification, text.Task);
        Assert.Equal(new[] { "bird", "cat", "dog" }, text.ClassNames);
        Assert.Equal(new[] { "a", "b" }, text.FeatureNames);
        // Rows may be shuffled: check each row's label against its first feature.
        var expectedLabel = new Dictionary<float, float> { [1] = 1, [3] = 2, [5] = 1, [7] = 0 };
        Assert.Equal(4, text.TrainCount);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expectedLabel[text.TrainX[i * 2]], text.TrainY[i]);
            Assert.Equal(text.TrainX[i * 2] + 1, text.TrainX[i * 2 + 1]);
        }

        var ints = Csv("a,y\n1,3\n2,1\n3,3\n");
        Assert.Equal(TaskKind.Classification, ints.Task);
        Assert.Equal(new[] { "1", "3" }, ints.ClassNames);

        var reals = Csv("a,y\n1,0.5\n2,1.25\n3,2.75\n", options: none);
        Assert.Equal(TaskKind.Regression, reals.Task);
        var pairs = Enumerable.Range(0, 3).Select(i => (reals.TrainX[i], reals.TrainY[i])).OrderBy(p => p.Item1).ToArray();
        Assert.Equal(new[] { (1f, 0.5f), (2f, 1.25f), (3f, 2.75f) }, pairs);
    }

    [Fact]
    public void CsvQuotingFollowsRfc4180()
    {
        var rows = DatasetLoader.ReadCsvRows(new StringReader("\"a,b\",\"say \"\"hi\"\"\",c\n\nx,\"two\nlines\",z\n")).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(new[] { "a,b", "say \"hi\"", "c" }, rows[0]);
        Assert.Equal(new[] { "x", "two\nlines", "z" }, rows[1]);
    }

    // ---- IDX ----------------------------------------------------------------------------

    private static void WriteIdx(string path, byte[] header, byte[] body, bool gzip)
    {
        using Stream file = File.Create(path + (gzip ? ".gz" : ""));
        using Stream s = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        s.Write(header);
        s.Write(body);
    }

    private static byte[] ImageHeader(int n, int rows, int cols)
    {
        var h = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(h, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4), n);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(12), cols);
        return h;
    }

    private static byte[] LabelHeader(int n)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(h, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4), n);
        return h;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxFolderKeepsTheOfficialSplit(bool gzip)
    {
        var dir = TestKit.TempDir();
        try
        {
            const int nTrain = 12, nTest = 5, rows = 3, cols = 3;
            var rng = new Random(7);
            var trainImages = new byte[nTrain * rows * cols];
            var testImages = new byte[nTest * rows * cols];
            rng.NextBytes(trainImages);
            rng.NextBytes(testImages);
            var trainLabels = Enumerable.Range(0, nTrain).Select(i => (byte)(i % 4)).ToArray();
            var testLabels = new byte[] { 3, 0, 2, 1, 1 };
            WriteIdx(Path.Combine(dir, "train-images-idx3-ubyte"), ImageHeader(nTrain, rows, cols), trainImages, gzip);
            WriteIdx(Path.Combine(dir, "train-labels-idx1-ubyte"), LabelHeader(nTrain), trainLabels, gzip);
            WriteIdx(Path.Combine(dir, "t10k-images-idx3-ubyte"), ImageHeader(nTest, rows, cols), testImages, !gzip);
            WriteIdx(Path.Combine(dir, "t10k-labels-idx1-ubyte"), LabelHeader(nTest), testLabels, !gzip);

            var data = DatasetLoader.FromIdxFolder(dir, new DatasetOptions { Normalization = Normalization.None, TestFraction = 0.5 }, "Tiny");
            Assert.Equal("Tiny", data.Name);
            Assert.Equal(TaskKind.Classification, data.Task);
            Assert.Equal(9, data.Features);
            Assert.Equal(4, data.Classes);
            Assert.Equal(nTrain, data.TrainCount);
            Assert.Equal(nTest, data.TestCount);
            // Official split, file order, values as stored.
            Assert.Equal(trainImages.Select(b => (float)b), data.TrainX);
            Assert.Equal(testImages.Select(b => (float)b), data.TestX);
            Assert.Equal(trainLabels.Select(b => (float)b), data.TrainY);
            Assert.Equal(testLabels.Select(b => (float)b), data.TestY);
            Assert.Equal("pixel_1_2", data.FeatureNames[5]);

            // Standardized: with the train split's statistics.
            var std = DatasetLoader.FromIdxFolder(dir, new DatasetOptions(), "Tiny");
            double mean0 = trainImages.Where((_, k) => k % 9 == 0).Average(b => (double)b);
            Assert.InRange(std.Offset[0], mean0 - 1e-3, mean0 + 1e-3);
            Assert.InRange(Enumerable.Range(0, nTrain).Average(i => (double)std.TrainX[i * 9]), -1e-5, 1e-5);

            // A model trains on it.
            var model = Mlp.Create(new[] { 9, 4 }, seed: 1);
            Trainer.Train(model, std, new TrainingOptions { Epochs = 1, Seed = 1 });
            Assert.InRange(Evaluator.Evaluate(model, std).Value, 0, 1);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void IdxErrors()
    {
        var dir = TestKit.TempDir();
        try
        {
            TestKit.Throws("DatasetFolderNotFound", () => DatasetLoader.FromIdxFolder(Path.Combine(dir, "none"), new DatasetOptions()));
            WriteIdx(Path.Combine(dir, "train-images-idx3-ubyte"), ImageHeader(2, 2, 2), new byte[8], false);
            WriteIdx(Path.Combine(dir, "train-labels-idx1-ubyte"), LabelHeader(2), new byte[] { 0, 1 }, false);
            WriteIdx(Path.Combine(dir, "t10k-images-idx3-ubyte"), ImageHeader(1, 2, 2), new byte[4], false);
            TestKit.Throws("IdxFileNotFound", () => DatasetLoader.FromIdxFolder(dir, new DatasetOptions()));
            // Labels promise 3 but hold 1: truncated.
            WriteIdx(Path.Combine(dir, "t10k-labels-idx1-ubyte"), LabelHeader(3), new byte[] { 1 }, false);
            TestKit.Throws("InvalidIdxFile", () => DatasetLoader.FromIdxFolder(dir, new DatasetOptions()));
            // Label count and image count disagree.
            WriteIdx(Path.Combine(dir, "t10k-labels-idx1-ubyte"), LabelHeader(2), new byte[] { 1, 0 }, false);
            TestKit.Throws("IdxMismatch", () => DatasetLoader.FromIdxFolder(dir, new DatasetOptions()));
            // Wrong magic.
            File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), Encoding.ASCII.GetBytes("not an idx file"));
            TestKit.Throws("InvalidIdxFile", () => DatasetLoader.FromIdxFolder(dir, new DatasetOptions()));
        }
        finally { Directory.Delete(dir, true); }
    }
}
