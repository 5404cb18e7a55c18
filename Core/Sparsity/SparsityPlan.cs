using TorchSharp;

namespace SparsePrune;

/// <summary>A computed but not yet applied sparsity change: what -WhatIf shows.</summary>
public sealed class SparsityPlan : IDisposable
{
    internal SparsityPlan(SparsityRequest request, List<PlannedMask> masks, List<LayerChange> changes)
    {
        Request = request;
        Masks = masks;
        Changes = changes;
    }

    public SparsityRequest Request { get; }
    public IReadOnlyList<LayerChange> Changes { get; }
    /// <summary>Global scope: the layers -MaxLayerSparsity held at their cap (global ranking wanted more there).</summary>
    public IReadOnlyList<int> CappedLayers { get; init; } = Array.Empty<int>();
    internal List<PlannedMask> Masks { get; }
    public bool ChangesNothing => Changes.All(c => c.ZeroAfter == c.ZeroBefore) && !MasksDiffer;
    internal bool MasksDiffer => Masks.Any(m => m.Changes);
    /// <summary>The masks were chosen by <see cref="NativeSelect"/> (false: by the torch path).</summary>
    internal bool Native { get; init; }
    internal bool Applied { get; set; }
    /// <summary>Called after each layer's mask is installed (tests throw from it to fail a step half-way).</summary>
    internal Action<int>? AfterInstall { get; set; }
    public void Dispose() { foreach (var m in Masks) { m.Keep?.Dispose(); m.Keep = null; } }
}
