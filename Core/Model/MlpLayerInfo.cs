namespace SparsePrune;

/// <summary>One row of <see cref="Mlp.Layers"/>: a linear layer as it is now.</summary>
public sealed class MlpLayerInfo
{
    public int Index { get; init; }
    public int InFeatures { get; init; }
    public int OutFeatures { get; init; }
    public long Weights { get; init; }
    public long NonZeroWeights { get; init; }
    public double Sparsity { get; init; }
    public LayerStorage Stored { get; init; }
    /// <summary>How inference multiplies (Auto: the sparse kernel when the layer is sparse enough for the batch).</summary>
    public LayerKernel Kernel { get; init; }
    /// <summary>Bits per weight when the layer is quantized (null: float32).</summary>
    public int? Bits { get; init; }
    /// <summary>How the layer is quantized (e.g. "KMeans 5-bit (32 values)"), or null.</summary>
    public string? Quantization { get; init; }
    public override string ToString() => $"{InFeatures}x{OutFeatures} ({Stored}, sparsity {Sparsity:P1})";
}
