using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// FeatureMap: a data set meets a model by column name when both know names (any column order
/// gives the same inputs, bit for bit), by position when either does not; a name that is
/// missing or unknown is refused, naming it.
/// </summary>
public class FeatureMapTests
{
    private static readonly string[] Names = { "age", "income", "visits", "tenure" };

    /// <summary>Rows of four features with a class that depends on them (seeded), as text cells.</summary>
    private static List<string[]> Rows(int n, int seed)
    {
        var rng = new Random(seed);
        var rows = new List<string[]>();
        for (int i = 0; i < n; i++)
        {
            double age = 18 + rng.NextDouble() * 60, income = rng.NextDouble() * 9e4, visits = rng.Next(30), tenure = rng.NextDouble() * 12;
            var label = age / 78 + visits / 30.0 - tenure / 12 > 0.4 ? "stay" : "leave";
            rows.Add(new[] { age, income, visits, tenure }.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append(label).ToArray());
        }
        return rows;
    }

    /// <summary>The same rows with the feature columns in <paramref name="order"/> (indices into <see cref="Names"/>), header renamed by <paramref name="rename"/>.</summary>
    private static Dataset Table(int[] order, Func<string, string>? rename = null, Normalization normalization = Normalization.Standard, int rows = 300)
    {
        var source = Rows(rows, 5);
        var header = order.Select(c => (rename ?? (s => s))(Names[c])).Append("label").ToArray();
        var cells = source.Select(r => order.Select(c => r[c]).Append(r[^1]).ToArray()).ToList();
        return DatasetLoader.FromTable("customers", header, cells, header.Length - 1,
            new DatasetOptions { Seed = 3, Normalization = normalization });
    }

    private static readonly int[] Original = { 0, 1, 2, 3 };
    private static readonly int[] Shuffled = { 2, 0, 3, 1 };

    private static Mlp Trained(Dataset data)
    {
        var model = Mlp.Create(new[] { 4, 8, 2 }, seed: 11);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, Seed = 2 });
        return model;
    }

    [Fact]
    public void ColumnsInAnotherOrderGiveTheSameInputsBitForBit()
    {
        var original = Table(Original);
        var shuffled = Table(Shuffled);
        var model = Trained(original);
        Assert.Equal(Names, model.FeatureNames);
        Assert.NotEqual(original.FeatureNames, shuffled.FeatureNames);

        var map = FeatureMap.Between(model, shuffled);
        Assert.Equal(new[] { 1, 3, 0, 2 }, map.Columns); // age is column 1 of the shuffled set, income 3, …
        TestKit.BitEqual(ModelInputs.For(model, original, original.EvaluationSplit.X), ModelInputs.For(model, shuffled, shuffled.EvaluationSplit.X));
        Assert.Equal(Evaluator.Evaluate(model, original).Value, Evaluator.Evaluate(model, shuffled).Value);
    }

    [Fact]
    public void TrainingOnColumnsInAnotherOrderChangesTheModelExactlyAsTheOriginalOrder()
    {
        var original = Table(Original);
        var shuffled = Table(Shuffled);
        var a = Trained(original);
        var b = a.Clone();
        Trainer.Train(a, original, new TrainingOptions { Epochs = 2, Seed = 9 });
        Trainer.Train(b, shuffled, new TrainingOptions { Epochs = 2, Seed = 9 });
        for (int layer = 0; layer < a.LayerCount; layer++) TestKit.BitEqual(TestKit.W(a, layer), TestKit.W(b, layer), $"layer {layer}");
        // The model keeps its own names and order; the set it last trained on is the shuffled one.
        Assert.Equal(Names, b.FeatureNames);
        Assert.Same(shuffled, b.Dataset);
    }

    [Fact]
    public void AnotherNormalizationIsMappedThroughTheModelsStatisticsColumnByColumn()
    {
        var model = Trained(Table(Original));
        var minMax = Table(Shuffled, normalization: Normalization.MinMax);
        var expected = ModelInputs.For(model, Table(Original), Table(Original).EvaluationSplit.X);
        var actual = ModelInputs.For(model, minMax, minMax.EvaluationSplit.X);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"input {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void NamesAreMatchedIgnoringCaseWhenNoneMatchesExactly()
    {
        var model = Trained(Table(Original));
        var upper = Table(Shuffled, s => s.ToUpperInvariant());
        Assert.Equal(new[] { 1, 3, 0, 2 }, FeatureMap.Between(model, upper).Columns);
    }

    [Fact]
    public void TheSameOrderIsTheIdentityAndCopiesNothing()
    {
        var data = Table(Original);
        var model = Trained(data);
        Assert.True(FeatureMap.Between(model, data).IsIdentity);
        Assert.Same(data.EvaluationSplit.X, ModelInputs.For(model, data, data.EvaluationSplit.X));
    }

    [Fact]
    public void RenamedNarrowerOrWiderColumnsAreRefusedNamingThem()
    {
        var model = Trained(Table(Original));
        var before = TestKit.Snap(model);

        var renamed = TestKit.Throws("FeatureMismatch", () => Evaluator.Evaluate(model, Table(Shuffled, s => s == "income" ? "salary" : s)));
        Assert.Contains("'income'", renamed.Message);
        Assert.Contains("'salary'", renamed.Message);

        var narrower = TestKit.Throws("FeatureMismatch", () => Trainer.Train(model, Table(new[] { 3, 0, 1 }), new TrainingOptions { Epochs = 1 }));
        Assert.Contains("'visits'", narrower.Message);
        TestKit.SameState(before, model);

        var wide = DatasetLoader.FromTable("wide", Names.Append("id").Append("label").ToArray(),
            Rows(50, 1).Select((r, i) => r[..4].Append(i.ToString()).Append(r[4]).ToArray()).ToList(), 5, new DatasetOptions());
        var wider = TestKit.Throws("FeatureMismatch", () => Evaluator.Evaluate(model, wide));
        Assert.Contains("'id'", wider.Message);
        Assert.Contains("-ExcludeColumn", wider.Message);
    }

    [Fact]
    public void APositionalDataSetOrAModelWithoutNamesIsMatchedByPosition()
    {
        var named = Table(Original);
        var model = Trained(named);
        var renamed = Table(Original, s => "col_" + s);
        var positional = Dataset.Build("images", TaskKind.Classification, renamed.FeatureNames.ToArray(), renamed.ClassNames.ToArray(),
            RawRows(renamed), renamed.TrainY.Concat(renamed.TestY).ToArray(), 0.2, 3, Normalization.Standard, null, hasFeatureNames: false);
        Assert.True(FeatureMap.Between(model, positional).IsIdentity);
        ModelInputs.CheckCompatible(model, positional);

        var fresh = Mlp.Create(new[] { 4, 8, 2 }, seed: 1);
        Assert.Null(fresh.FeatureNames);
        Assert.True(FeatureMap.Between(fresh, Table(Shuffled)).IsIdentity);
        TestKit.Throws("FeatureCountMismatch", () => FeatureMap.Between(fresh, TestKit.Digits));
    }

    [Fact]
    public void AModelTrainedOnAPositionalSetLearnsNoNamesAndStaysPositional()
    {
        var renamed = Table(Original, s => "pixel_" + s);
        var positional = Dataset.Build("images", TaskKind.Classification, renamed.FeatureNames.ToArray(), renamed.ClassNames.ToArray(),
            RawRows(renamed), renamed.TrainY.Concat(renamed.TestY).ToArray(), 0.2, 3, Normalization.Standard, null, hasFeatureNames: false);
        var model = Trained(positional);
        Assert.Null(model.FeatureNames);
        Assert.True(FeatureMap.Between(model, Table(Shuffled)).IsIdentity);
    }

    [Fact]
    public void DatasetBytesKeepWhetherTheNamesArePositional()
    {
        var named = Table(Original, rows: 20);
        Assert.True(DatasetBytes.FromBytes(DatasetBytes.ToBytes(named)).HasFeatureNames);
        var positional = Dataset.Build("images", TaskKind.Classification, named.FeatureNames.ToArray(), named.ClassNames.ToArray(),
            RawRows(named), named.TrainY.Concat(named.TestY).ToArray(), 0.2, 3, Normalization.Standard, null, hasFeatureNames: false);
        Assert.False(DatasetBytes.FromBytes(DatasetBytes.ToBytes(positional)).HasFeatureNames);
        Assert.False(positional.SplitValidation(0.3, 1).HasFeatureNames);
    }

    [Fact]
    public void OtherClassNamesAreRefused()
    {
        var model = Trained(Table(Original));
        var source = Rows(100, 5).Select(r => r[..4].Append(r[4] == "stay" ? "yes" : "no").ToArray()).ToList();
        var other = DatasetLoader.FromTable("relabelled", Names.Append("label").ToArray(), source, 4, new DatasetOptions());
        var e = TestKit.Throws("ClassMismatch", () => Evaluator.Evaluate(model, other));
        Assert.Contains("leave, stay", e.Message);
    }

    [Fact]
    public void DuplicateColumnNamesAreRefusedAndExcludedColumnsLeftOut()
    {
        var dir = TestKit.TempDir();
        try
        {
            var path = Path.Combine(dir, "c.csv");
            File.WriteAllText(path, "id,a,A,y\n1,1,2,x\n2,3,4,z\n3,5,6,x\n4,7,8,z\n");
            TestKit.Throws("DuplicateColumn", () => DatasetLoader.FromCsv(path, null, new DatasetOptions()));
            var kept = DatasetLoader.FromCsv(path, null, new DatasetOptions(), excludeColumns: new[] { "ID", "A" });
            Assert.Equal(new[] { "a" }, kept.FeatureNames);
            TestKit.Throws("ExcludedColumnNotFound", () => DatasetLoader.FromCsv(path, null, new DatasetOptions(), excludeColumns: new[] { "nope" }));
            TestKit.Throws("TargetColumnExcluded", () => DatasetLoader.FromCsv(path, "y", new DatasetOptions(), excludeColumns: new[] { "y", "A" }));
            // Without -TargetColumn the target is the last column that is not excluded.
            var lastKept = DatasetLoader.FromCsv(path, null, new DatasetOptions { Task = TaskKind.Regression }, excludeColumns: new[] { "y", "a" });
            Assert.Equal(new[] { "id" }, lastKept.FeatureNames);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A data set's rows back in raw units, train rows then test rows.</summary>
    private static float[] RawRows(Dataset data)
    {
        int f = data.Features;
        var normalized = data.TrainX.Concat(data.TestX).ToArray();
        var raw = new float[normalized.Length];
        for (int i = 0; i < raw.Length; i++) raw[i] = (float)((double)normalized[i] * data.Scale[i % f] + data.Offset[i % f]);
        return raw;
    }
}
