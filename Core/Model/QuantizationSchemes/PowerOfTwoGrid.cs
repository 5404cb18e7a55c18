namespace SparsePrune;

/// <summary>
/// Logarithmic quantization per layer: the values are 0 and ±2^e for the 2^(bits−1) − 1 exponents
/// e up to the layer's largest, E (the power of two nearest its largest magnitude), so a product
/// with a weight is a shift. Each weight takes the nearest value; weights below half the smallest
/// power become 0. A file keeps E only (one signed byte); the levels, ascending in
/// <see cref="LayerQuantization.Codebook"/>, are rebuilt from it, and a weight's code is its
/// level's index there. Powers below float32's smallest (2^−149) are left out.
/// </summary>
[QuantizationScheme("PowerOfTwo", 2)]
internal sealed class PowerOfTwoGrid : QuantizationScheme
{
    public const int Default = 4;
    private const int SmallestExponent = -149, LargestExponent = 127, LowestStoredExponent = -128;

    public override int MinBits => 2;
    public override int DefaultBits => Default;
    public override string Noun => "a power-of-two grid";
    public override string OffGrid => "not a power of two of its grid";

    public override LayerQuantization Fit(float[] weights, int outF, int inF, int bits)
    {
        float max = 0;
        foreach (var v in weights) max = Math.Max(max, Math.Abs(v));
        return new LayerQuantization(this, bits, Levels(bits, max == 0 || !float.IsFinite(max) ? 0 : NearestExponent(max)));
    }

    /// <summary>The exponent of the power of two nearest to <paramref name="magnitude"/> (&gt; 0): 2^e, or 2^(e+1) from 1.5 · 2^e up.</summary>
    private static int NearestExponent(float magnitude)
    {
        int e = MathF.ILogB(magnitude);
        int nearest = magnitude >= 1.5f * MathF.ScaleB(1f, e) ? e + 1 : e;
        return Math.Clamp(nearest, LowestStoredExponent, LargestExponent);
    }

    /// <summary>0 and ±2^e for the 2^(bits−1) − 1 exponents up to <paramref name="largest"/>, ascending.</summary>
    private static float[] Levels(int bits, int largest)
    {
        int count = (1 << (bits - 1)) - 1;
        var powers = Enumerable.Range(0, count).Select(k => largest - k).Where(e => e >= SmallestExponent).Select(e => MathF.ScaleB(1f, e)).ToArray();
        return powers.Select(p => -p).Append(0f).Concat(Enumerable.Reverse(powers)).ToArray();
    }

    private static int Largest(LayerQuantization q) => q.Codebook.Length > 1 ? MathF.ILogB(q.Codebook[^1]) : 0;

    public override int Levels(LayerQuantization q) => q.Codebook.Length;

    public override int Code(LayerQuantization q, int row, float v) => KMeans1D.Nearest(q.Codebook, v);

    public override float Value(LayerQuantization q, int row, int code) => q.Codebook[code];

    /// <summary>The largest exponent, one signed byte.</summary>
    public override long ParameterBytes(LayerQuantization q) => 1;

    public override void WriteParameters(BinaryWriter w, LayerQuantization q) => w.Write((sbyte)Largest(q));

    public override LayerQuantization ReadParameters(IByteSource r, int bits, int outF, string layer)
    {
        int largest = (sbyte)r.Bytes(1, $"{layer}'s largest exponent")[0];
        return new LayerQuantization(this, bits, Levels(bits, largest));
    }

    public override string Describe(LayerQuantization q) => q.Codebook.Length > 1
        ? $"{Name} {q.Bits}-bit (±2^{MathF.ILogB(q.Codebook[q.Codebook.Length / 2 + 1])}..2^{Largest(q)})"
        : $"{Name} {q.Bits}-bit";
}
