using System.Globalization;

namespace SparsePrune;

/// <summary>What Invoke-Pruning is asked to do.</summary>
public sealed record PruningRequest
{
    /// <summary>Target fraction of the scope's baseline weights (Connection) or hidden neurons (Neuron) deleted.</summary>
    public double Ratio { get; init; }
    public PruneStructure Structure { get; init; } = PruneStructure.Connection;
    public PruneCriterion Criterion { get; init; } = PruneCriterion.L1;
    public PruneScope Scope { get; init; } = PruneScope.Layer;
    /// <summary>NM: keep <see cref="KeepN"/> of every <see cref="GroupM"/> consecutive weights of a row.</summary>
    public int KeepN { get; init; } = 2;
    public int GroupM { get; init; } = 4;
    public int? Seed { get; init; }

    /// <summary>This request with the seed a Random ranking draws with fixed now (see <see cref="RandomSeed"/>).</summary>
    internal PruningRequest WithRandomSeed(Mlp model) => this with { Seed = RandomSeed.For(model, Criterion == PruneCriterion.Random, Seed) };
    /// <summary>
    /// Global scope: no layer passes this fraction of its baseline weights (neurons) deleted;
    /// 1: no cap; null: <see cref="DefaultMaxLayerSparsity"/> of the target.
    /// </summary>
    public double? MaxLayerSparsity { get; init; }

    /// <summary>The cap global ranking works under (<see cref="MaxLayerSparsity"/> or its default).</summary>
    public double EffectiveMaxLayerSparsity => MaxLayerSparsity ?? DefaultMaxLayerSparsity(Ratio);

    /// <summary>
    /// The default cap: 0.98 up to a target of 0.92, above it 1 − (1 − target) / 4, so that a
    /// layer always keeps at least a quarter of the share the whole scope keeps. Its job is to
    /// prevent layer collapse (one layer emptied while others stay dense), not to allocate: a
    /// fixed 0.98 turned every global target of 0.98 or more into the same sparsity in every
    /// layer, output layer included (LeNet-300-100 on Fashion-MNIST, Gradual to 0.98: 75.0 %
    /// accuracy, against 88.8 % uncapped with layers at 98.3 / 96.3 / 73.6 %). Up to a target of
    /// 0.92 the default is the 0.98 it always was, so results there do not change.
    /// </summary>
    public static double DefaultMaxLayerSparsity(double ratio) => Math.Max(0.98, 1 - (1 - ratio) / 4);
    /// <summary>Layers in scope (null: all; Neuron: hidden layers only).</summary>
    public int[]? Layers { get; init; }
    /// <summary>
    /// Layer scope: a target per layer (indexed by layer; Neuron: hidden layers) instead of
    /// <see cref="Ratio"/>, e.g. as sensitivity chose them.
    /// </summary>
    public double[]? LayerRatios { get; init; }
    /// <summary>Criteria scored from gradients (Taylor, Fisher): batch size of the scoring passes over the training split.</summary>
    public int ScoringBatchSize { get; init; } = 256;

    /// <summary>The structure that plans this request.</summary>
    internal PrunableStructure StructureImpl => PrunableStructure.For(Structure);

    /// <summary>The settings the history records (its ToString is the -WhatIf text).</summary>
    public HistorySettings Describe()
    {
        var settings = new HistorySettings().Add(nameof(Structure), Structure);
        if (Structure == PruneStructure.NM) settings.Add("Pattern", $"{KeepN}:{GroupM}").Add(nameof(Criterion), Criterion);
        else
            // Layer ratios to 6 decimals (what sensitivity's choice means; the line stays short).
            settings.Add(nameof(LayerRatios), LayerRatios?.Select(r => double.Parse(r.ToString("0.######", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)).ToArray())
                .Add(nameof(Ratio), LayerRatios is null ? Ratio : null).Add(nameof(Criterion), Criterion).Add(nameof(Scope), Scope);
        return settings
            .Add(nameof(MaxLayerSparsity), Scope == PruneScope.Global && Structure != PruneStructure.NM ? EffectiveMaxLayerSparsity : null)
            .Add("Layer", Layers?.ToArray())
            .Add(nameof(Seed), Criterion == PruneCriterion.Random ? Seed : null);
    }
}
