namespace SparsePrune;

/// <summary>One layer's row of a <see cref="CompressionReport"/>.</summary>
public sealed class LayerReport : CompressionCounts
{
    public LayerReport() { }

    internal LayerReport(CompressionCounts counts) : base(counts) { }

    public int Layer { get; init; }
    public int InFeatures { get; init; }
    public int OutFeatures { get; init; }
    public LayerStorage Stored { get; init; }
    /// <summary>The bits of the layer's quantization (Invoke-Quantization); null when its weights are float32.</summary>
    public int? Bits { get; init; }
}
