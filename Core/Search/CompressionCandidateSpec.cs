using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>
/// What one Compress-Mlp candidate is made of, apart from the search's common recipe
/// (<see cref="CompressionRecipe"/>): its stage, the ratio or bits it tries, and the candidate it
/// starts from (<see cref="Basis"/>: a Bits candidate starts from a pruned one, a Lean one from a
/// Bits one; none starts from the model as given). It travels as JSON to sweep workers, and its
/// JSON is its identity: two equal specs make the same model from the same model, data and recipe.
/// </summary>
public sealed record CompressionCandidateSpec
{
    /// <summary>The model as given, trained as long as a pruning candidate: what every candidate is judged against.</summary>
    public const string Reference = "Reference";
    public const string Sparsity = "Sparsity";
    public const string Neurons = "Neurons";
    public const string Bits = "Bits";
    public const string Lean = "Lean";
    /// <summary>Lean: the input offsets folded into layer 0, exactly (<see cref="LeanKind"/>).</summary>
    public const string LeanExact = "Exact";
    /// <summary>Lean: the scales folded too at a float16's precision, and the biases on codebooks of their own.</summary>
    public const string LeanRounded = "Rounded";

    private static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public string Stage { get; init; } = "";
    /// <summary>Sparsity and Neurons: the share of connections (or hidden neurons) pruned.</summary>
    public double? Ratio { get; init; }
    /// <summary>Bits: the k-means codebook's bits.</summary>
    [JsonPropertyName("bits")] public int? CodeBits { get; init; }
    /// <summary>Lean: <see cref="LeanExact"/> or <see cref="LeanRounded"/>.</summary>
    public string? LeanKind { get; init; }
    /// <summary>The candidate this one starts from; null: the model as given.</summary>
    public CompressionCandidateSpec? Basis { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CompressionCandidateSpec FromJson(string json)
    {
        CompressionCandidateSpec? spec;
        try { spec = JsonSerializer.Deserialize<CompressionCandidateSpec>(json, Json); }
        catch (JsonException e) { throw SparsePruneException.BadData("CorruptCandidateSpec", $"A Compress-Mlp candidate description could not be read: {e.Message}"); }
        return spec ?? throw SparsePruneException.BadData("CorruptCandidateSpec", "A Compress-Mlp candidate description was empty.");
    }

    internal static CompressionCandidateSpec Pruning(PruneStructure structure, double ratio) =>
        new() { Stage = structure == PruneStructure.Connection ? Sparsity : Neurons, Ratio = ratio };

    /// <summary>The JSON: the same for equal specs, in every process.</summary>
    public override string ToString() => ToJson();

    public bool Equals(CompressionCandidateSpec? other) => other is not null && ToJson() == other.ToJson();

    public override int GetHashCode() => ToJson().GetHashCode(StringComparison.Ordinal);

    internal string Describe() => Stage switch
    {
        Sparsity or Neurons => string.Create(CultureInfo.InvariantCulture, $"{Stage} {Ratio}"),
        Bits => $"{CodeBits}-bit k-means on {Basis?.Describe()}",
        Lean => $"{LeanKind} lean on {Basis?.Describe()}",
        _ => Stage,
    };
}
