namespace SparsePrune;

/// <summary>One layer's effect of a sparsity or pruning step.</summary>
public sealed class LayerChange
{
    public int Layer { get; init; }
    public string Shape { get; init; } = "";
    /// <summary>Weights present before the step.</summary>
    public long Weights { get; init; }
    public long ZeroBefore { get; init; }
    public long ZeroAfter { get; init; }
    /// <summary>Connections this step deletes (pruning only).</summary>
    public long Deleting { get; init; }
    public int NeuronsBefore { get; init; }
    public int NeuronsAfter { get; init; }
    public override string ToString() => Deleting == 0 && NeuronsAfter == NeuronsBefore && ZeroAfter == ZeroBefore
        ? $"layer {Layer} ({Shape}): unchanged, {ZeroBefore} of {Weights} weights zero"
        : Deleting > 0 || NeuronsAfter != NeuronsBefore
        ? $"layer {Layer} ({Shape}): delete {Deleting} of {Weights} weights" + (NeuronsAfter != NeuronsBefore ? $", neurons {NeuronsBefore} -> {NeuronsAfter}" : "")
        : $"layer {Layer} ({Shape}): {ZeroAfter} of {Weights} weights zero (now {ZeroBefore})";
}
