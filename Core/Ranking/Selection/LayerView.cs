using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>One layer as the native select sees it: addresses of contiguous CPU tensors (0: absent).</summary>
internal readonly struct LayerView
{
    /// <summary>Live weights (float32): masked and deleted connections hold 0.</summary>
    public nint Weight { get; init; }
    /// <summary>Values behind the current mask (float32), 0 where none.</summary>
    public nint MaskedValues { get; init; }
    /// <summary>Deleted connections (bool): out of scope, never chosen, never counted.</summary>
    public nint Deleted { get; init; }
    /// <summary>The current keep mask (bool), 0 when every weight is kept.</summary>
    public nint Keep { get; init; }
    /// <summary>Scores to rank by (float32, non-negative), 0 to rank by |Weight + MaskedValues|.</summary>
    public nint Scores { get; init; }
    public long Count { get; init; }
}
