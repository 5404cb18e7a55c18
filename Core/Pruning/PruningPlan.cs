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
    /// <summary>
    /// Global scope: the layers -MaxLayerSparsity held at their cap while global ranking wanted
    /// more of them (all of them: the allocation was uniform, not global). Empty otherwise.
    /// </summary>
    public IReadOnlyList<int> CappedLayers { get; internal set; } = Array.Empty<int>();
    /// <summary>Every layer in scope is held at the cap: the allocation is uniform, not global.</summary>
    public bool CapHoldsEveryLayer { get; internal set; }
    /// <summary>Connections to delete, by layer (bool, true: delete).</summary>
    internal Dictionary<int, Tensor> Connections { get; } = new();
    /// <summary>Neurons to remove now, one group per hidden layer that loses any.</summary>
    internal List<NeuronGroup> RemovedNeurons { get; } = new();
    internal NeuronApplication NeuronApplication { get; init; } = NeuronApplication.RemoveNow;
    /// <summary>Neurons chosen per hidden layer when the plan masks instead of removing.</summary>
    internal List<List<int>> NewlyMasked { get; } = new();
    public void Dispose() { foreach (var t in Connections.Values) t.Dispose(); }
}
