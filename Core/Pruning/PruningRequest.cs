using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

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
    /// <summary>Global scope: no layer passes this fraction of its baseline weights (neurons) deleted; null: no cap.</summary>
    public double? MaxLayerSparsity { get; init; }
    /// <summary>Layers in scope (null: all; Neuron: hidden layers only).</summary>
    public int[]? Layers { get; init; }
    /// <summary>
    /// Layer scope: a target per layer (indexed by layer; Neuron: hidden layers) instead of
    /// <see cref="Ratio"/>, e.g. as sensitivity chose them.
    /// </summary>
    public double[]? LayerRatios { get; init; }
    /// <summary>
    /// Neuron pruning inside training: neurons (per hidden layer) already removed in effect but
    /// still present in the shapes. They count as removed, are not chosen again, and the plan
    /// deletes the connections of the neurons it chooses instead of removing them, so the
    /// shapes (and the optimizer's state) stay until training ends.
    /// </summary>
    internal IReadOnlyList<HashSet<int>>? MaskedNeurons { get; init; }
    /// <summary>Taylor: batch size of the scoring passes over the training split.</summary>
    public int TaylorBatchSize { get; init; } = 256;

    public string Describe() => (Structure == PruneStructure.NM
        ? $"Structure=NM Pattern={KeepN}:{GroupM} Criterion={Criterion}"
        : LayerRatios is { } lr
        ? string.Create(CultureInfo.InvariantCulture, $"Structure={Structure} LayerRatios={string.Join(",", lr.Select(r => r.ToString("0.######", CultureInfo.InvariantCulture)))} Criterion={Criterion} Scope={Scope}")
        : string.Create(CultureInfo.InvariantCulture, $"Structure={Structure} Ratio={Ratio} Criterion={Criterion} Scope={Scope}"))
        + (Scope == PruneScope.Global && MaxLayerSparsity is { } cap && Structure != PruneStructure.NM ? string.Create(CultureInfo.InvariantCulture, $" MaxLayerSparsity={cap}") : "")
        + (Layers is { } layers ? $" Layer={string.Join(",", layers)}" : "")
        + (Criterion == PruneCriterion.Random && Seed is { } s ? $" Seed={s}" : "");
}
