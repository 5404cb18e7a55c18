using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>A computed but not yet applied pruning step: what -WhatIf shows.</summary>
public sealed class PruningPlan : IDisposable
{
    internal PruningPlan(PruningRequest request, List<LayerChange> changes)
    {
        Request = request;
        Changes = changes;
    }

    public PruningRequest Request { get; internal set; }
    public IReadOnlyList<LayerChange> Changes { get; }
    /// <summary>Connections this step deletes directly (Connection, NM) or with removed neurons.</summary>
    public long Deleting => Changes.Sum(c => c.Deleting);
    public long NeuronsRemoving => Changes.Sum(c => (long)(c.NeuronsBefore - c.NeuronsAfter));
    /// <summary>True when the target was already met and the step deletes nothing.</summary>
    public bool TargetMet => Deleting == 0 && NeuronsRemoving == 0;
    internal Dictionary<int, Tensor> Connections { get; } = new();
    internal Dictionary<int, long[]> KeepNeurons { get; } = new();
    /// <summary>Neurons chosen per hidden layer when the request masks instead of removing.</summary>
    internal List<List<int>> NewlyMasked { get; } = new();
    public void Dispose() { foreach (var t in Connections.Values) t.Dispose(); }
}
