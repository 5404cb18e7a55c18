namespace SparsePrune;

/// <summary>
/// How one layer's weights are quantized; the layer's weight tensor always holds the effective
/// values (what it computes with), so inference, reports and exports need nothing else.
/// KMeans: every present non-zero weight equals one of <see cref="Codebook"/>'s values (at most
/// 2^<see cref="Bits"/>); zeros are no cluster. Linear: row r's weights are
/// (q − <see cref="RowZeroPoints"/>[r]) × <see cref="RowScales"/>[r] with q a <see cref="Bits"/>-bit integer.
/// A weight's code is recovered from its value, so only these few numbers need keeping.
/// </summary>
internal sealed record LayerQuantization(QuantizationMethod Method, int Bits, float[] Codebook, float[]? RowScales = null, int[]? RowZeroPoints = null)
{
    /// <summary>Shared values (KMeans) or integer levels (Linear) a weight can take.</summary>
    public int Levels => Method == QuantizationMethod.KMeans ? Codebook.Length : 1 << Bits;

    public override string ToString() => Method == QuantizationMethod.KMeans ? $"KMeans {Bits}-bit ({Codebook.Length} values)" : $"Linear {Bits}-bit";
}
