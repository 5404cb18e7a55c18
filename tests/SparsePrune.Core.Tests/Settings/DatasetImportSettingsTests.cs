using Xunit;

namespace SparsePrune.Tests;

/// <summary>Import-Dataset's settings: defaults from the published table, and which settings apply to a CSV file or IDX files.</summary>
public sealed class DatasetImportSettingsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparseprune-import-settings-").FullName;
    private string Csv
    {
        get
        {
            var path = Path.Combine(_folder, "rows.csv");
            if (!File.Exists(path)) File.WriteAllText(path, "a,b,y\n1,2,0\n");
            return path;
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var job = new DatasetImportSettings { Path = Csv }.Resolve();
        var d = DatasetImportSettings.Defaults;
        Assert.False(job.IsIdx);
        Assert.Equal(d["TestFraction"], job.Options.TestFraction);
        Assert.Equal(d["Seed"], job.Options.Seed);
        Assert.Equal(d["Normalize"], job.Options.Normalization);
        Assert.Null(job.Options.Task);
        Assert.Equal(Csv, job.Path);
    }

    [Fact]
    public void GivenValuesReachTheImport()
    {
        var job = new DatasetImportSettings
        {
            Path = Csv, TargetColumn = "y", ExcludeColumn = new[] { "a" }, Task = TaskKind.Regression,
            TestFraction = 0.5, Seed = 1, Normalize = Normalization.None, Name = "mine",
        }.Resolve();
        Assert.Equal(("y", "mine", TaskKind.Regression), (job.TargetColumn, job.Name, job.Options.Task));
        Assert.Equal(new[] { "a" }, job.ExcludeColumn);
        Assert.Equal((0.5, 1, Normalization.None), (job.Options.TestFraction, job.Options.Seed, job.Options.Normalization));
    }

    [Fact]
    public void AFolderIsIdxAndKeepsItsSplit()
    {
        Assert.True(new DatasetImportSettings { Path = _folder, Seed = 4 }.Resolve().IsIdx);
        var e = TestKit.Throws("ParameterNotApplicable", () => new DatasetImportSettings { Path = _folder, TestFraction = 0.2 }.Resolve());
        Assert.Contains("official", e.Message);
    }

    [Fact]
    public void CsvColumnsDoNotApplyToIdxFiles()
    {
        var e = TestKit.Throws("ParameterNotApplicable", () => new DatasetImportSettings { Path = _folder, TargetColumn = "y" }.Resolve());
        Assert.Contains("-TargetColumn", e.Message);
        e = TestKit.Throws("ParameterNotApplicable", () => new DatasetImportSettings { Path = _folder, ExcludeColumn = new[] { "id" } }.Resolve());
        Assert.Contains("-ExcludeColumn", e.Message);
    }
}
