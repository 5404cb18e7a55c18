using System.Buffers.Binary;

namespace SparsePrune;

/// <summary>
/// Uniform affine quantization per output row, as ONNX Runtime and torch.ao quantize: row r's
/// values are (level − zero point[r]) · scale[r] for the 2^bits signed levels −2^(bits−1) to
/// 2^(bits−1) − 1, over [min(row, 0), max(row, 0)] so that 0 is a level exactly (zeros and masked
/// weights stay 0). Code = level + 2^(bits−1). The grid's arithmetic is written here only.
/// </summary>
[QuantizationScheme("Linear", 1)]
internal sealed class LinearGrid : QuantizationScheme, IAffineRows
{
    public const int Default = 8;

    public override int MinBits => 2;
    public override int DefaultBits => Default;
    public override string Noun => "a linear grid";
    public override string OffGrid => "off its row's grid";

    private static int LowestLevel(int bits) => -(1 << (bits - 1));
    private static int HighestLevel(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>Per row: scale = (max − min) / (2^bits − 1) and the level of 0 as zero point.</summary>
    public override LayerQuantization Fit(float[] weights, int outF, int inF, int bits)
    {
        var scales = new float[outF];
        var zeros = new int[outF];
        int qmin = LowestLevel(bits), qmax = HighestLevel(bits);
        for (int r = 0; r < outF; r++)
        {
            float min = 0, max = 0;
            for (int c = 0; c < inF; c++) { var v = weights[(long)r * inF + c]; min = Math.Min(min, v); max = Math.Max(max, v); }
            float scale = (max - min) / (qmax - qmin);
            scales[r] = scale;
            zeros[r] = scale == 0 ? 0 : Math.Clamp(qmin - (int)MathF.Round(min / scale), qmin, qmax);
        }
        return new LayerQuantization(this, bits, Array.Empty<float>(), scales, zeros);
    }

    public override int Levels(LayerQuantization q) => 1 << q.Bits;

    public override int Code(LayerQuantization q, int row, float v)
    {
        int qmin = LowestLevel(q.Bits), zp = q.RowZeroPoints![row];
        float scale = q.RowScales![row];
        int level = scale == 0 ? zp : Math.Clamp((int)MathF.Round(v / scale) + zp, qmin, HighestLevel(q.Bits));
        return level - qmin;
    }

    public override float Value(LayerQuantization q, int row, int code) => (Level(q, code) - q.RowZeroPoints![row]) * q.RowScales![row];

    public int Level(LayerQuantization q, int code) => code + LowestLevel(q.Bits);

    public bool HasRows(LayerQuantization q, int rows) => q.RowScales?.Length == rows && q.RowZeroPoints?.Length == rows;

    public (float Scale, int ZeroPoint) Row(LayerQuantization q, int row) => (q.RowScales![row], q.RowZeroPoints![row]);

    /// <summary>A float32 scale and an int8 zero point a row.</summary>
    public override long ParameterBytes(LayerQuantization q) => 5L * q.RowScales!.Length;

    public override void WriteParameters(BinaryWriter w, LayerQuantization q)
    {
        var buffer = new byte[4L * q.RowScales!.Length];
        for (int k = 0; k < q.RowScales.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * k), q.RowScales[k]);
        w.Write(buffer);
        foreach (var z in q.RowZeroPoints!) w.Write((sbyte)z);
    }

    public override LayerQuantization ReadParameters(IByteSource r, int bits, int outF, string layer)
    {
        var bytes = r.Bytes(4L * outF, $"{layer}'s row scales");
        var scales = new float[outF];
        for (int k = 0; k < outF; k++) scales[k] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * k));
        var zeros = r.Bytes(outF, $"{layer}'s row zero points").ToArray().Select(b => (int)(sbyte)b).ToArray();
        if (scales.Any(v => !float.IsFinite(v) || v < 0)) throw new FormatException($"{layer}'s row scales are not all finite and non-negative");
        if (zeros.Any(z => z < LowestLevel(bits) || z > HighestLevel(bits))) throw new FormatException($"{layer}'s row zero points are not all {bits}-bit levels");
        return new LayerQuantization(this, bits, Array.Empty<float>(), scales, zeros);
    }

    public override LayerQuantization FromVersion2(int bits, float[]? codebook, float[]? rowScales, int[]? rowZeroPoints, int outF, string layer)
    {
        if (rowScales is null || rowZeroPoints is null || rowScales.Length != outF || rowZeroPoints.Length != outF || rowScales.Any(v => !float.IsFinite(v) || v < 0))
            throw new FormatException($"{layer}'s linear grid does not fit its {outF} rows");
        return new LayerQuantization(this, bits, Array.Empty<float>(), rowScales, rowZeroPoints);
    }

    public override string Describe(LayerQuantization q) => $"{Name} {q.Bits}-bit";
}
