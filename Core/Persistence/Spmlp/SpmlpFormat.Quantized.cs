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

    /// <summary>A layer's biases as codes of its bias codebook: the codebook and the coded codes.</summary>
    private sealed record CodedBiases(float[] Codebook, CodeCoder Coder, byte[] Stream);

    /// <summary>
    /// The layer's biases coded with its <see cref="LayerState.BiasCodebook"/>, or null: no codebook,
    /// or a bias that is not one of its values (trained since), which is then written as float32.
    /// </summary>
    private static CodedBiases? CodedBias(LayerState layer)
    {
        if (layer.BiasCodebook is not { Length: > 0 and <= 1 << QuantizationScheme.MaxBits } book) return null;
        var bias = Floats(layer.Bias);
        var codes = new ushort[bias.Length];
        for (int k = 0; k < bias.Length; k++)
        {
            int code = Array.IndexOf(book, bias[k]);
            if (code < 0 || BitConverter.SingleToInt32Bits(book[code]) != BitConverter.SingleToInt32Bits(bias[k])) return null;
            codes[k] = (ushort)code;
        }
        var (coder, stream) = CodeCoding.Smallest(codes, book.Length);
        return new CodedBiases(book, coder, stream);
    }

    /// <summary>Version 4: levels uint16, the codebook float32, coder byte, length uint32, the coded codes (code k is codebook[k]).</summary>
    private static void WriteCodedBias(BinaryWriter w, CodedBiases coded)
    {
        w.Write((ushort)coded.Codebook.Length);
        WriteFloatsAt(w, coded.Codebook, null);
        w.Write((byte)coded.Coder);
        w.Write((uint)coded.Stream.Length);
        w.Write(coded.Stream);
    }

    private static (float[] Bias, float[] Codebook) ReadCodedBias(SpmlpCursor r, int i, int outF)
    {
        string what = $"layer {i}'s bias codebook";
        int levels = r.UInt16();
        if (levels < 1 || levels > 1 << QuantizationScheme.MaxBits) throw new FormatException($"{what} has {levels} values; 1 to {1 << QuantizationScheme.MaxBits} are possible");
        var book = new float[levels];
        ReadFloatsAt(r, book, null, what);
        if (!book.All(float.IsFinite)) throw new FormatException($"{what} holds NaN or infinite values");
        int coder = r.Byte();
        long length = r.UInt32();
        var stream = r.Bytes(length, $"layer {i}'s bias codes");
        if (coder < 1 || coder > 3) throw new FormatException($"layer {i}'s bias codes name an unknown coder {coder}");
        var codes = CodeCoding.Decode((CodeCoder)coder, stream, outF, levels, $"layer {i}'s bias codes");
        var bias = new float[outF];
        for (int k = 0; k < outF; k++) bias[k] = book[codes[k]];
        return (bias, book);
    }
}
