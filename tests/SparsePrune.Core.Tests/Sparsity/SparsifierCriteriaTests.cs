using System.Security.Cryptography;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Set-Sparsity ranks through the importance criteria: the names scripts used before
/// (Magnitude, Random) give the masks they gave before the change, bit for bit.
/// </summary>
public class SparsifierCriteriaTests
{
    // Through the name registry, as the cmdlet parses -Method: Magnitude is L1.
    private static PruneCriterion Method(string name) => ImportanceCriterion.Parse(name);

    /// <summary>SHA-256 over every layer's keep mask and live and hidden weights, in layer order.</summary>
    private static string Digest(Mlp model)
    {
        using var sha = SHA256.Create();
        var bytes = new List<byte>();
        foreach (var layer in model.State)
        {
            bytes.AddRange(layer.Keep is null ? new byte[] { 2 } : TestKit.Bools(layer.Keep).Select(b => b ? (byte)1 : (byte)0));
            foreach (var f in TestKit.Floats(layer.Weight)) bytes.AddRange(BitConverter.GetBytes(f));
            foreach (var f in TestKit.Floats(layer.MaskedValues)) bytes.AddRange(BitConverter.GetBytes(f));
        }
        return Convert.ToHexString(sha.ComputeHash(bytes.ToArray()))[..16];
    }

    /// <summary>A sequence of steps on one worked model (deleted connections, earlier masks, lower targets).</summary>
    private static IEnumerable<SparsityRequest> Steps(string method) => method == "Magnitude"
        ? new[]
        {
            new SparsityRequest { Sparsity = 0.5, Method = Method(method) },
            new SparsityRequest { Sparsity = 0.7, Scope = PruneScope.Global, Method = Method(method) },
            new SparsityRequest { Sparsity = 0.6, Scope = PruneScope.ERK, Method = Method(method) },
            new SparsityRequest { Sparsity = 0.8, Scope = PruneScope.Global, MaxLayerSparsity = 0.85, Method = Method(method) },
            new SparsityRequest { Threshold = 0.05, Method = Method(method) },
            new SparsityRequest { Sparsity = 0.3, Layers = new[] { 2, 1 }, Method = Method(method) },
        }
        : new[]
        {
            new SparsityRequest { Sparsity = 0.5, Method = Method(method), Seed = 3 },
            new SparsityRequest { Sparsity = 0.6, Scope = PruneScope.Global, Method = Method(method), Seed = 4 },
            new SparsityRequest { Sparsity = 0.4, Scope = PruneScope.ERK, Method = Method(method), Seed = 5 },
            new SparsityRequest { Sparsity = 0.7, Scope = PruneScope.Global, MaxLayerSparsity = 0.75, Method = Method(method), Seed = 6 },
            new SparsityRequest { Sparsity = 0.2, Method = Method(method) },
        };

    private static List<string> Run(string method, bool preferNative)
    {
        var model = TestKit.WorkedModel(seed: 5, name: "golden");
        var digests = new List<string> { Digest(model) };
        foreach (var request in Steps(method))
        {
            using var plan = Sparsifier.Plan(model, request, preferNative);
            Sparsifier.Apply(model, plan, null);
            digests.Add(Digest(model));
        }
        return digests;
    }

    // Digests of what the code before the criteria (SparsityMethod with its own scoring) gave.
    private static readonly Dictionary<string, string> Before = new()
    {
        ["Magnitude"] = "9E621C43B15F8A79 9E621C43B15F8A79 F04682756B87FF8B 08EB828B9E57D6AE 36AECABC45EC0A02 5C6536800E84E969 A45D1D38EF875E1F",
        ["Random"] = "9E621C43B15F8A79 93AFFA801EBE5EC4 5A5DC7CC556ACDC0 36785080DD49C894 27046D2CA7CC7191 4DF527013DE11F87",
    };

    [Theory]
    [InlineData("Magnitude", true)]
    [InlineData("Magnitude", false)]
    [InlineData("Random", true)]
    [InlineData("Random", false)]
    public void OldMethodNamesGiveTheMasksTheyGaveBefore(string method, bool preferNative) =>
        Assert.Equal(Before[method], string.Join(" ", Run(method, preferNative)));

    [Theory]
    [InlineData("Magnitude", PruneCriterion.L1)]
    [InlineData("magnitude", PruneCriterion.L1)]
    [InlineData("L1", PruneCriterion.L1)]
    [InlineData("fisher", PruneCriterion.Fisher)]
    public void NamesIncludeTheAliases(string name, PruneCriterion expected) => Assert.Equal(expected, ImportanceCriterion.Parse(name));

    [Fact]
    public void AnUnknownNameIsRefusedWithTheNames()
    {
        var e = TestKit.Throws("UnknownCriterion", () => ImportanceCriterion.Parse("Biggest"));
        Assert.Contains("Magnitude", e.Message);
        Assert.Contains("Taylor", e.Message);
    }

    [Fact]
    public void L2RanksConnectionsLikeL1()
    {
        var a = TestKit.WorkedModel(seed: 6, name: "a");
        var b = TestKit.WorkedModel(seed: 6, name: "b");
        TestKit.Sparsify(a, 0.6, PruneScope.Global, method: PruneCriterion.L1);
        TestKit.Sparsify(b, 0.6, PruneScope.Global, method: PruneCriterion.L2);
        Assert.Equal(Digest(a), Digest(b));
    }

    [Theory]
    [InlineData(PruneCriterion.Taylor)]
    [InlineData(PruneCriterion.Fisher)]
    public void DataCriteriaWithoutDataAreRefusedAndChangeNothing(PruneCriterion criterion)
    {
        var model = Mlp.Create(new[] { 4, 6, 3 }, seed: 2);
        var before = Digest(model);
        var e = TestKit.Throws("NoDataset", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5, Method = criterion }));
        Assert.Contains("-Dataset", e.Message);
        Assert.Equal(before, Digest(model));
    }

    [Theory]
    [InlineData(PruneCriterion.Random)]
    [InlineData(PruneCriterion.Taylor)]
    public void ThresholdNeedsAMagnitudeCriterion(PruneCriterion criterion) =>
        TestKit.Throws("ThresholdNeedsMagnitude", () => Sparsifier.Plan(TestKit.WorkedModel(1, "t"), new SparsityRequest { Threshold = 0.1, Method = criterion }, TestKit.Iris));

    /// <summary>
    /// Set-Sparsity's target is absolute for the data criteria too: they rank with the masks
    /// lifted, so the masks do not depend on the mask the model had before.
    /// </summary>
    [Theory]
    [InlineData(PruneCriterion.Taylor)]
    [InlineData(PruneCriterion.Fisher)]
    public void DataCriteriaRankWithTheMasksLifted(PruneCriterion criterion)
    {
        var data = TestKit.Iris;
        var fresh = Mlp.Create(new[] { 4, 12, 8, 3 }, Activation.Tanh, seed: 9, name: "fresh");
        Trainer.Train(fresh, data, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 1 });
        var masked = fresh.Clone("masked");
        TestKit.Sparsify(masked, 0.8, PruneScope.Global);
        foreach (var m in new[] { fresh, masked })
        {
            using var plan = Sparsifier.Plan(m, new SparsityRequest { Sparsity = 0.5, Scope = PruneScope.Global, Method = criterion }, data);
            Sparsifier.Apply(m, plan, data);
        }
        var keepFresh = fresh.State.SelectMany(l => TestKit.Bools(l.Keep)).ToArray();
        Assert.Equal(keepFresh, masked.State.SelectMany(l => TestKit.Bools(l.Keep)).ToArray());
        long total = fresh.State.Sum(l => l.PresentWeights);
        Assert.Equal(Ranking.FloorCount(0.5, total), keepFresh.Count(k => !k));
        // Not magnitude in disguise: the gradients change the order.
        var byMagnitude = fresh.Clone("l1");
        TestKit.Sparsify(byMagnitude, 0.5, PruneScope.Global);
        Assert.NotEqual(keepFresh, byMagnitude.State.SelectMany(l => TestKit.Bools(l.Keep)).ToArray());
    }

    /// <summary>Scores from the model's own weights: the same request on the same model gives the same masks on both selection paths.</summary>
    [Theory]
    [InlineData(PruneCriterion.Taylor)]
    [InlineData(PruneCriterion.Fisher)]
    public void DataCriteriaChooseTheSameOnBothPaths(PruneCriterion criterion)
    {
        var a = TestKit.WorkedModel(seed: 8, name: "a");
        var b = a.Clone("b");
        foreach (var (m, native) in new[] { (a, true), (b, false) })
        {
            using var plan = Sparsifier.Plan(m, new SparsityRequest { Sparsity = 0.6, Scope = PruneScope.ERK, Method = criterion }, native, TestKit.Iris);
            Sparsifier.Apply(m, plan, null);
        }
        Assert.Equal(Digest(a), Digest(b));
    }
}
