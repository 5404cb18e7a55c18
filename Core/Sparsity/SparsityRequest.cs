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

    /// <summary>This request with the seed a Random ranking draws with fixed now (see <see cref="RandomSeed"/>).</summary>
    internal SparsityRequest WithRandomSeed(Mlp model) => this with { Seed = RandomSeed.For(model, Method == PruneCriterion.Random, Seed) };
    /// <summary>Global scope: no layer has more than this fraction of its present weights masked (null: no cap; masks can be undone, so none by default).</summary>
    public double? MaxLayerSparsity { get; init; }

    /// <summary>The settings the history records (its ToString is the -WhatIf text).</summary>
    public HistorySettings Describe() => new HistorySettings()
        .Add(nameof(Sparsity), Sparsity).Add(nameof(Threshold), Threshold)
        .Add(nameof(Scope), Scope).Add(nameof(Method), Method).Add(nameof(MaxLayerSparsity), MaxLayerSparsity)
        .Add("Layer", Layers?.ToArray())
        .Add(nameof(Seed), Method == PruneCriterion.Random ? Seed : null);
}
