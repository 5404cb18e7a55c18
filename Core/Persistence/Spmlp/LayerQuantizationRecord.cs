namespace SparsePrune;

/// <summary>
/// A layer's quantization as .spmlp version 2 kept it in the metadata: the method's name, the bits
/// and the few numbers that define the values (the codebook, or each row's scale and zero point).
/// Read only: version 3 keeps the quantization in the layer sections. The codes are not stored:
/// each weight's value names its code, and reading checks that it does.
/// </summary>
internal sealed class LayerQuantizationRecord
{
    public string Method { get; set; } = "";
    public int Bits { get; set; }
    public float[]? Codebook { get; set; }
    public float[]? RowScales { get; set; }
    public int[]? RowZeroPoints { get; set; }

    /// <summary>The quantization of a layer of <paramref name="weights"/> (out × in), checked against them; FormatException if they disagree.</summary>
    public LayerQuantization ToQuantization(int layer, float[] weights, int outF, int inF)
    {
        var scheme = QuantizationScheme.Named(Method) ?? throw new FormatException($"layer {layer} names an unknown quantization method '{Method}'");
        if (Bits < 1 || Bits > QuantizationScheme.MaxBits) throw new FormatException($"layer {layer} is quantized to {Bits} bits; 1 to {QuantizationScheme.MaxBits} are possible");
        var q = scheme.FromVersion2(Bits, Codebook, RowScales, RowZeroPoints, outF, $"layer {layer}");
        for (int r = 0; r < outF; r++)
            for (int c = 0; c < inF; c++)
            {
                var w = weights[(long)r * inF + c];
                if (w != 0 && !scheme.OnGrid(q, r, w)) throw new FormatException($"layer {layer} holds a weight ({w}) that is {scheme.OffGrid}");
            }
        return q;
    }
}
