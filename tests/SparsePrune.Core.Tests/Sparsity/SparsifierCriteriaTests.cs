using System.Security.Cryptography;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Set-Sparsity ranks through the importance criteria: the names scripts used before
/// (Magnitude, Random) give the masks they gave before the change, bit for bit.
/// </summary>
public class SparsifierCriteriaTests
{
    private static SparsityMethod Method(string name) => Enum.Parse<SparsityMethod>(name);

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
}
