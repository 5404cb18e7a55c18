using System.Globalization;

namespace SparsePrune;

/// <summary>What Set-Sparsity is asked to do: exactly one of <see cref="Sparsity"/> and <see cref="Threshold"/>.</summary>
public sealed record SparsityRequest
{
    public double? Sparsity { get; init; }
    public double? Threshold { get; init; }
    public PruneScope Scope { get; init; } = PruneScope.Layer;
    /// <summary>The criterion that ranks the weights (Set-Sparsity's -Method; Magnitude is L1's other name).</summary>
    public PruneCriterion Method { get; init; } = PruneCriterion.L1;
    /// <summary>Rows per batch of the gradient passes of -Method Taylor and Fisher.</summary>
    public int ScoringBatchSize { get; init; } = 256;
    /// <summary>Layers in scope (null: all).</summary>
    public int[]? Layers { get; init; }
    public int? Seed { get; init; }
    /// <summary>Global scope: no layer has more than this fraction of its present weights masked (null: no cap; masks can be undone, so none by default).</summary>
    public double? MaxLayerSparsity { get; init; }

    public string Describe()
    {
        var target = Sparsity is { } s ? $"Sparsity={s.ToString(CultureInfo.InvariantCulture)}" : $"Threshold={Threshold!.Value.ToString(CultureInfo.InvariantCulture)}";
        var layers = Layers is null ? "" : $" Layer={string.Join(",", Layers)}";
        var seed = Method == PruneCriterion.Random && Seed is { } sd ? $" Seed={sd}" : "";
        var cap = MaxLayerSparsity is { } c ? $" MaxLayerSparsity={c.ToString(CultureInfo.InvariantCulture)}" : "";
        return $"{target} Scope={Scope} Method={Method}{cap}{layers}{seed}";
    }
}
