using Xunit;

namespace SparsePrune.Tests;

/// <summary>The one seed fill-in: a random draw without a seed takes the model's next seed; nothing else changes.</summary>
public class RandomSeedTests
{
    [Fact]
    public void ARandomDrawWithoutASeedTakesTheModelsNextSeed()
    {
        var model = Mlp.Create(new[] { 4, 3, 2 }, seed: 11);
        Assert.Equal(model.NextSeed(), RandomSeed.For(model, drawsAtRandom: true, seed: null));
        Assert.Equal(model.NextSeed(), new PruningRequest { Criterion = PruneCriterion.Random }.WithRandomSeed(model).Seed);
        Assert.Equal(model.NextSeed(), new SparsityRequest { Sparsity = 0.5, Method = PruneCriterion.Random }.WithRandomSeed(model).Seed);
    }

    [Fact]
    public void AGivenSeedOrADrawThatIsNotRandomIsLeftAsItIs()
    {
        var model = Mlp.Create(new[] { 4, 3, 2 }, seed: 11);
        Assert.Equal(5, RandomSeed.For(model, drawsAtRandom: true, seed: 5));
        Assert.Null(RandomSeed.For(model, drawsAtRandom: false, seed: null));
        Assert.Null(new PruningRequest { Criterion = PruneCriterion.L1 }.WithRandomSeed(model).Seed);
        Assert.Null(new SparsityRequest { Sparsity = 0.5 }.WithRandomSeed(model).Seed);
        Assert.Equal(7, new PruningRequest { Criterion = PruneCriterion.Random, Seed = 7 }.WithRandomSeed(model).Seed);
    }
}
