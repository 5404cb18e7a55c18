namespace SparsePrune;

/// <summary>
/// How one layer's weights are quantized; the layer's weight tensor always holds the effective
/// values (what it computes with), so inference, reports and exports need nothing else.
/// <see cref="Scheme"/> says what the numbers mean: a codebook of shared values
/// (<see cref="KMeansCodebook"/>), a grid per row (<see cref="LinearGrid"/>: <see cref="RowScales"/>
/// and <see cref="RowZeroPoints"/>) or a layer's levels (<see cref="PowerOfTwoGrid"/>, in
/// <see cref="Codebook"/>). A weight's code is recovered from its value, so only these few numbers
/// need keeping.
/// </summary>
internal sealed record LayerQuantization(QuantizationScheme Scheme, int Bits, float[] Codebook, float[]? RowScales = null, int[]? RowZeroPoints = null)
{
    /// <summary>Values a present non-zero weight can take: shared values or grid levels.</summary>
    public int Levels => Scheme.Levels(this);

    public override string ToString() => Scheme.Describe(this);
}
