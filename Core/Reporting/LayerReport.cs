namespace SparsePrune;

/// <summary>One layer's row of a <see cref="CompressionReport"/>.</summary>
public sealed class LayerReport : CompressionCounts
{
    public int Layer { get; init; }
    public int InFeatures { get; init; }
    public int OutFeatures { get; init; }
    public LayerStorage Stored { get; init; }
}
