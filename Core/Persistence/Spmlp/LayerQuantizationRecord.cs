namespace SparsePrune;

/// <summary>
/// A layer's quantization as the .spmlp metadata keeps it: the method, the bits and the few
/// numbers that define the values (the codebook, or each row's scale and zero point). The codes
/// are not stored: each weight's value names its code, and reading checks that it does.
/// </summary>
internal sealed class LayerQuantizationRecord
{
    public string Method { get; set; } = "";
    public int Bits { get; set; }
    public float[]? Codebook { get; set; }
    public float[]? RowScales { get; set; }
    public int[]? RowZeroPoints { get; set; }

    public static LayerQuantizationRecord? From(LayerQuantization? q) => q is null ? null : new()
    {
        Method = q.Method.ToString(), Bits = q.Bits,
        Codebook = q.Method == QuantizationMethod.KMeans ? q.Codebook : null, RowScales = q.RowScales, RowZeroPoints = q.RowZeroPoints,
    };

    /// <summary>The quantization of a layer of <paramref name="weights"/> (out × in), checked against them; FormatException if they disagree.</summary>
    public LayerQuantization ToQuantization(int layer, float[] weights, int outF, int inF)
    {
        if (!Enum.TryParse<QuantizationMethod>(Method, out var method) || !Enum.IsDefined(method) || int.TryParse(Method, out _))
            throw new FormatException($"layer {layer} names an unknown quantization method '{Method}'");
        if (Bits < 1 || Bits > 8) throw new FormatException($"layer {layer} is quantized to {Bits} bits; 1 to 8 are possible");
        LayerQuantization q;
        if (method == QuantizationMethod.KMeans)
        {
            if (Codebook is null || Codebook.Length == 0 || Codebook.Length > 1 << Bits || Codebook.Any(v => !float.IsFinite(v)))
                throw new FormatException($"layer {layer}'s codebook does not fit {Bits} bits");
            q = new LayerQuantization(method, Bits, Codebook);
            var values = Codebook.ToHashSet();
            foreach (var w in weights)
                if (w != 0 && !values.Contains(w)) throw new FormatException($"layer {layer} holds a weight ({w}) that is not in its codebook");
        }
        else
        {
            if (RowScales is null || RowZeroPoints is null || RowScales.Length != outF || RowZeroPoints.Length != outF || RowScales.Any(v => !float.IsFinite(v) || v < 0))
                throw new FormatException($"layer {layer}'s linear grid does not fit its {outF} rows");
            q = new LayerQuantization(method, Bits, Array.Empty<float>(), RowScales, RowZeroPoints);
            for (int r = 0; r < outF; r++)
                for (int c = 0; c < inF; c++)
                {
                    var w = weights[(long)r * inF + c];
                    if (w != 0 && Quantizer.Value(q, r, w) != w) throw new FormatException($"layer {layer} holds a weight ({w}) off its row's grid");
                }
        }
        return q;
    }
}
