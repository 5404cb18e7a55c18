using Xunit;

namespace SparsePrune.Tests;

/// <summary>Get-Dataset's settings: defaults from the published table, and which settings apply to which data set.</summary>
public class BuiltInDatasetSettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var options = new BuiltInDatasetSettings { Name = "Digits" }.Resolve();
        var d = BuiltInDatasetSettings.Defaults;
        Assert.Equal(d["TestFraction"], options.TestFraction);
        Assert.Equal(d["Seed"], options.Seed);
        Assert.Equal(d["Normalize"], options.Normalization);
        Assert.Equal((0.2, 42, Normalization.Standard), (options.TestFraction, options.Seed, options.Normalization));
        Assert.Null(options.Task);
    }

    [Fact]
    public void GivenValuesWin()
    {
        var options = new BuiltInDatasetSettings { Name = "Iris", TestFraction = 0.3, Seed = 7, Normalize = Normalization.MinMax }.Resolve();
        Assert.Equal((0.3, 7, Normalization.MinMax), (options.TestFraction, options.Seed, options.Normalization));
    }

    [Theory]
    [InlineData("Digits")]
    [InlineData("Iris")]
    [InlineData("Synthetic")]
    public void APathDoesNotApplyToABuiltInSet(string name)
    {
        var e = TestKit.Throws("ParameterNotApplicable", () => new BuiltInDatasetSettings { Name = name, Path = "/tmp/idx" }.Resolve());
        Assert.Contains("Import-Dataset", e.Message);
    }

    [Theory]
    [InlineData("Mnist")]
    [InlineData("FashionMnist")]
    public void AGivenTestFractionDoesNotApplyToIdxSets(string name)
    {
        // Even the default's value: given is given (the cmdlet no longer copies 0.2 to compare with).
        var e = TestKit.Throws("ParameterNotApplicable", () => new BuiltInDatasetSettings { Name = name, TestFraction = 0.2 }.Resolve());
        Assert.Contains("official", e.Message);
        var options = new BuiltInDatasetSettings { Name = name, Path = "/tmp/idx", Seed = 3 }.Resolve();
        Assert.Equal(3, options.Seed);
    }
}
