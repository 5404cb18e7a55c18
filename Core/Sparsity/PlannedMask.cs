using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>One layer's new keep mask in a <see cref="SparsityPlan"/>.</summary>
internal sealed class PlannedMask
{
    public int Layer { get; init; }
    /// <summary>Bool, true = keep; null once a layer owns it (the plan was applied).</summary>
    public Tensor? Keep { get; set; }
    /// <summary>Nothing is masked: the layer ends with no mask and no hidden values.</summary>
    public bool KeepsAll { get; init; }
    /// <summary>The mask differs from the layer's current one.</summary>
    public bool Changes { get; init; }
}
