using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Quantized layers in .spmlp version 3: the scheme's method byte and bits, its parameters (the
/// scheme writes and reads them), then the entropy-coded codes (see <see cref="CodeCoding"/>).
/// What a code means is the scheme's (<see cref="QuantizationScheme.Code"/>, <see cref="QuantizationScheme.Value"/>).
/// </summary>
public static partial class SpmlpFormat
{
    private sealed record QuantizedCodes(CodeCoder Coder, byte[] Stream);

    /// <summary>The coded codes of the stored weights; InvalidOperationException if a weight is not a value of the quantization.</summary>
    private static QuantizedCodes Quantized(LayerState layer, float[] weights, int[]? present, CodeCoder? coder)
    {
        var q = layer.Quantization!;
        var scheme = q.Scheme;
        int inF = layer.InFeatures;
        long count = present?.Length ?? weights.LongLength;
        var codes = new ushort[count];
        for (long k = 0; k < count; k++)
        {
            long at = present is null ? k : present[k];
            int row = (int)(at / inF), code = scheme.Code(q, row, weights[at]);
            if (scheme.Value(q, row, code) != weights[at])
                throw new InvalidOperationException($"a weight ({weights[at]}) of the {layer.OutFeatures}x{inF} layer is {scheme.OffGrid}");
            codes[k] = (ushort)code;
        }
        var (chosen, stream) = CodeCoding.Smallest(codes, scheme.Alphabet(q), coder);
        return new QuantizedCodes(chosen, stream);
    }

    private static void WriteQuantized(BinaryWriter w, LayerQuantization q, QuantizedCodes codes)
    {
        w.Write(q.Scheme.FileCode);
        w.Write((byte)q.Bits);
        q.Scheme.WriteParameters(w, q);
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
        var scheme = QuantizationScheme.ForFileCode(method) ?? throw new FormatException($"{what} names an unknown method {method}");
        if (bits < 1 || bits > QuantizationScheme.MaxBits) throw new FormatException($"{what} has {bits} bits; 1 to {QuantizationScheme.MaxBits} are possible");
        var q = scheme.ReadParameters(r, bits, outF, $"layer {i}");
        int coder = r.Byte();
        long length = r.UInt32();
        var stream = r.Bytes(length, $"layer {i}'s codes");
        if (coder < 1 || coder > 3) throw new FormatException($"layer {i}'s codes name an unknown coder {coder}");
        long count = present?.Length ?? n;
        var codes = CodeCoding.Decode((CodeCoder)coder, stream, count, scheme.Alphabet(q), $"layer {i}'s codes");
        // Allocated once the codes decoded: a lying section fails before the layer's memory is taken.
        var weights = new float[n];
        for (long k = 0; k < count; k++)
        {
            long at = present is null ? k : present[k];
            weights[at] = scheme.Value(q, (int)(at / inF), codes[k]);
        }
        return (weights, q);
    }
}
