using Xunit;

namespace SparsePrune.Tests;

/// <summary>Set-Sparsity's settings: defaults from the published table, and what combines with -Threshold.</summary>
public class SparsitySettingsTests
{
    [Fact]
    public void NothingGivenGivesEveryPublishedDefault()
    {
        var request = new SparsitySettings { Sparsity = 0.5 }.Resolve();
        Assert.Equal(SparsitySettings.Defaults["Scope"], request.Scope);
        Assert.Equal(SparsitySettings.Defaults["Method"], request.Method);
        Assert.Equal((0.5, (double?)null), (request.Sparsity, request.Threshold));
        Assert.Null(request.Seed);
        Assert.Null(request.Layers);
        Assert.Null(request.MaxLayerSparsity);
    }

    [Fact]
    public void GivenValuesWin()
    {
        var request = new SparsitySettings
        {
            Sparsity = 0.7, Scope = PruneScope.Global, Method = PruneCriterion.Random, Layers = new[] { 1 }, Seed = 4, MaxLayerSparsity = 0.9,
        }.Resolve();
        Assert.Equal((PruneScope.Global, PruneCriterion.Random, (int?)4, (double?)0.9), (request.Scope, request.Method, request.Seed, request.MaxLayerSparsity));
        Assert.Equal(new[] { 1 }, request.Layers);
    }

    [Theory]
    [InlineData(PruneScope.Global)]
    [InlineData(PruneScope.ERK)]
    public void AScopeDoesNotApplyToAThreshold(PruneScope scope)
    {
        var e = TestKit.Throws("ParameterNotApplicable", () => new SparsitySettings { Threshold = 0.1, Scope = scope }.Resolve());
        Assert.Contains("-Scope", e.Message);
    }

    [Fact]
    public void TheDefaultScopeGivenWithAThresholdChangesNothingSoIsNoConflict()
    {
        var request = new SparsitySettings { Threshold = 0.1, Scope = PruneScope.Layer, Seed = 3 }.Resolve();
        Assert.Equal((0.1, PruneScope.Layer), (request.Threshold, request.Scope));
    }

    [Fact]
    public void ExactlyOneTarget()
    {
        TestKit.Throws("SparsityTargetRequired", () => new SparsitySettings().Resolve());
        TestKit.Throws("SparsityTargetRequired", () => new SparsitySettings { Sparsity = 0.5, Threshold = 0.1 }.Resolve());
    }
}
