using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Quantized layers in .spmlp version 3: the codebook or grid, then the entropy-coded codes (see <see cref="CodeCoding"/>).</summary>
public static partial class SpmlpFormat
{
    private sealed record QuantizedCodes(CodeCoder Coder, byte[] Stream);

    /// <summary>Symbols of a layer's codes: KMeans the codebook and the zero, Linear the 2^bits levels.</summary>
    private static int Alphabet(LayerQuantization q) => q.Method == QuantizationMethod.KMeans ? q.Codebook.Length + 1 : 1 << q.Bits;

    /// <summary>Bytes of the codebook (4 a value) or the grid (a float32 scale and an int8 zero point a row).</summary>
    private static long ParameterBytes(LayerQuantization q, int outF) => q.Method == QuantizationMethod.KMeans ? 4L * q.Codebook.Length : 5L * outF;

    /// <summary>The coded codes of the stored weights; InvalidOperationException if a weight is not a value of the quantization.</summary>
    private static QuantizedCodes Quantized(LayerState layer, float[] weights, int[]? present, CodeCoder? coder)
    {
        var q = layer.Quantization!;
        int inF = layer.InFeatures, qmin = -(1 << (q.Bits - 1));
        long count = present?.Length ?? weights.LongLength;
        var codes = new ushort[count];
        Dictionary<int, int>? index = null;
        if (q.Method == QuantizationMethod.KMeans)
        {
            index = new Dictionary<int, int>();
            for (int c = 0; c < q.Codebook.Length; c++) index.TryAdd(BitConverter.SingleToInt32Bits(q.Codebook[c]), c + 1);
        }
        for (long k = 0; k < count; k++)
        {
            long at = present is null ? k : present[k];
            float v = weights[at];
            if (index is not null)
                codes[k] = v == 0 ? (ushort)0 : index.TryGetValue(BitConverter.SingleToInt32Bits(v), out int c) ? (ushort)c
                    : throw new InvalidOperationException($"a weight ({v}) of the {layer.OutFeatures}x{inF} layer is not in its codebook");
            else
            {
                int row = (int)(at / inF), level = Quantizer.Code(q, row, v);
                if ((level - q.RowZeroPoints![row]) * q.RowScales![row] != v)
                    throw new InvalidOperationException($"a weight ({v}) of the {layer.OutFeatures}x{inF} layer is off its row's grid");
                codes[k] = (ushort)(level - qmin);
            }
        }
        var (chosen, stream) = CodeCoding.Smallest(codes, Alphabet(q), coder);
        return new QuantizedCodes(chosen, stream);
    }

    private static void WriteQuantized(BinaryWriter w, LayerQuantization q, QuantizedCodes codes)
    {
        w.Write((byte)(q.Method == QuantizationMethod.KMeans ? 0 : 1));
        w.Write((byte)q.Bits);
        if (q.Method == QuantizationMethod.KMeans)
        {
            w.Write((ushort)q.Codebook.Length);
            WriteFloatsAt(w, q.Codebook, null);
        }
        else
        {
            WriteFloatsAt(w, q.RowScales!, null);
            foreach (var z in q.RowZeroPoints!) w.Write((sbyte)z);
        }
        w.Write((byte)codes.Coder);
        w.Write((uint)codes.Stream.Length);
        w.Write(codes.Stream);
    }

    /// <summary>Reads a quantized section: the layer's weights (the codes' values at <paramref name="present"/>, all when null) and its quantization.</summary>
    private static (float[] Weights, LayerQuantization Quantization) ReadQuantized(SpmlpCursor r, int i, int outF, int inF, int[]? present)
    {
        long n = (long)outF * inF;
        string what = $"layer {i}'s quantization";
        int method = r.Byte(), bits = r.Byte();
        if (method > 1) throw new FormatException($"{what} names an unknown method {method}");
        if (bits < 1 || bits > 8) throw new FormatException($"{what} has {bits} bits; 1 to 8 are possible");
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        LayerQuantization q;
        if (method == 0)
        {
            int levels = BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, what));
            if (levels > 1 << bits) throw new FormatException($"{what} has a codebook of {levels} values; {bits} bits hold at most {1 << bits}");
            var codebook = new float[r.Fits(levels, 4, $"layer {i}'s codebook")];
            ReadFloatsAt(r, codebook, null, $"layer {i}'s codebook");
            if (!codebook.All(float.IsFinite)) throw new FormatException($"layer {i}'s codebook holds NaN or infinite values");
            q = new LayerQuantization(QuantizationMethod.KMeans, bits, codebook);
        }
        else
        {
            var scales = new float[r.Fits(outF, 4, $"layer {i}'s row scales")];
            ReadFloatsAt(r, scales, null, $"layer {i}'s row scales");
            var zeros = r.Bytes(outF, $"layer {i}'s row zero points").ToArray().Select(b => (int)(sbyte)b).ToArray();
            if (scales.Any(v => !float.IsFinite(v) || v < 0)) throw new FormatException($"layer {i}'s row scales are not all finite and non-negative");
            if (zeros.Any(z => z < qmin || z > qmax)) throw new FormatException($"layer {i}'s row zero points are not all {bits}-bit levels");
            q = new LayerQuantization(QuantizationMethod.Linear, bits, Array.Empty<float>(), scales, zeros);
        }
        int coder = r.Byte();
        long length = r.UInt32();
        var stream = r.Bytes(length, $"layer {i}'s codes");
        if (coder < 1 || coder > 3) throw new FormatException($"layer {i}'s codes name an unknown coder {coder}");
        long count = present?.Length ?? n;
        var codes = CodeCoding.Decode((CodeCoder)coder, stream, count, Alphabet(q), $"layer {i}'s codes");
        // Allocated once the codes decoded: a lying section fails before the layer's memory is taken.
        var weights = new float[n];
        for (long k = 0; k < count; k++)
        {
            long at = present is null ? k : present[k];
            int c = codes[k];
            if (q.Method == QuantizationMethod.KMeans)
                weights[at] = c == 0 ? 0f : q.Codebook[c - 1];
            else
            {
                int row = (int)(at / inF);
                weights[at] = (c + qmin - q.RowZeroPoints![row]) * q.RowScales![row];
            }
        }
        return (weights, q);
    }
}
