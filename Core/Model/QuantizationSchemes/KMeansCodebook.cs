using System.Buffers.Binary;

namespace SparsePrune;

/// <summary>
/// Trained weight sharing (Deep Compression): per layer, k-means (<see cref="KMeans1D"/>) over the
/// present non-zero weights gives at most 2^bits shared values, the codebook, and each weight takes
/// the nearest. Code 0 is the zero, code c + 1 the codebook's value c. Fine-tuning moves the shared
/// values (so a codebook read back from training or a file may be out of order).
/// </summary>
[QuantizationScheme("KMeans", 0)]
internal sealed class KMeansCodebook : QuantizationScheme
{
    public const int Default = 5;

    public override int MinBits => 1;
    public override int DefaultBits => Default;
    public override bool HasSharedValues => true;
    public override string Noun => "a codebook";
    public override string OffGrid => "not in its codebook";

    public override LayerQuantization Fit(float[] weights, int outF, int inF, int bits) =>
        new(this, bits, KMeans1D.Centroids(weights.Where(v => v != 0).ToArray(), 1 << bits));

    public override int Levels(LayerQuantization q) => q.Codebook.Length;
    public override int Alphabet(LayerQuantization q) => q.Codebook.Length + 1;

    public override int Code(LayerQuantization q, int row, float v)
    {
        if (v == 0) return 0;
        var codebook = q.Codebook;
        int i = KMeans1D.Nearest(codebook, v);
        if (codebook[i] == v)
        {
            // The first of equal values, as the first writers coded them.
            while (i > 0 && codebook[i - 1] == v) i--;
            return i + 1;
        }
        // A fine-tuned codebook may be out of order, where a binary search misses an exact value.
        int exact = Array.IndexOf(codebook, v);
        return (exact >= 0 ? exact : i) + 1;
    }

    public override float Value(LayerQuantization q, int row, int code) => code == 0 ? 0f : q.Codebook[code - 1];

    /// <summary>The codebook, 4 bytes a value (its count, 2 bytes before it, is the section's framing).</summary>
    public override long ParameterBytes(LayerQuantization q) => 4L * q.Codebook.Length;

    public override void WriteParameters(BinaryWriter w, LayerQuantization q)
    {
        w.Write((ushort)q.Codebook.Length);
        var buffer = new byte[4L * q.Codebook.Length];
        for (int k = 0; k < q.Codebook.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * k), q.Codebook[k]);
        w.Write(buffer);
    }

    public override LayerQuantization ReadParameters(IByteSource r, int bits, int outF, string layer)
    {
        int levels = BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, $"{layer}'s quantization"));
        if (levels > 1 << bits) throw new FormatException($"{layer}'s quantization has a codebook of {levels} values; {bits} bits hold at most {1 << bits}");
        var bytes = r.Bytes(4L * levels, $"{layer}'s codebook");
        var codebook = new float[levels];
        for (int k = 0; k < levels; k++) codebook[k] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * k));
        if (!codebook.All(float.IsFinite)) throw new FormatException($"{layer}'s codebook holds NaN or infinite values");
        return new LayerQuantization(this, bits, codebook);
    }

    public override LayerQuantization FromVersion2(int bits, float[]? codebook, float[]? rowScales, int[]? rowZeroPoints, int outF, string layer)
    {
        if (codebook is null || codebook.Length == 0 || codebook.Length > 1 << bits || codebook.Any(v => !float.IsFinite(v)))
            throw new FormatException($"{layer}'s codebook does not fit {bits} bits");
        return new LayerQuantization(this, bits, codebook);
    }

    public override string Describe(LayerQuantization q) => $"{Name} {q.Bits}-bit ({q.Codebook.Length} values)";
}
