using System.Text;

namespace SparsePrune;

/// <summary>The sizes of a model's files, which the compression report's file ratio is taken from.</summary>
public static partial class SpmlpFormat
{
    /// <summary>
    /// The bytes <see cref="ToBytes(Mlp)"/> writes for <paramref name="model"/> (Export-Mlp's
    /// default format): its length, through the writer itself (counting the float32 sections
    /// rather than copying them), so it is the file's length byte for byte. Null when the model cannot be written: a quantized layer holds a weight off its
    /// codebook or grid (changed behind the quantization's back), which the writer refuses.
    /// </summary>
    public static long? FileBytes(Mlp model)
    {
        try { return CountBytes(model); }
        catch (InvalidOperationException) { return null; }
    }

    /// <summary>
    /// The bytes of the dense float32 file the compression ratio is measured against: the file
    /// of the model as it was at its baseline, recorded when the baseline was taken
    /// (<see cref="ModelBaseline.FileBytes"/>); for a baseline that did not record it (files
    /// written before it did), <see cref="DenseFileBytes"/> of the baseline's widths; for a model
    /// without a baseline (never compressed, or imported from ONNX or SafeTensors), that of its
    /// own widths, which for a dense model is its own file's length.
    /// </summary>
    public static long BaselineFileBytes(Mlp model) =>
        model.Baseline is { FileBytes: { } recorded } ? recorded : DenseFileBytes(model, model.Baseline?.Widths ?? model.Widths);

    /// <summary>
    /// The length of the version-2 file of a dense float32 model of <paramref name="widths"/>
    /// (input first) that carries <paramref name="model"/>'s metadata and input normalization:
    /// header, plain preamble (as the writer writes it), the layer count, each layer's shape and
    /// flags, out × in weights and out biases at 4 bytes each, and the checksum. Counted, not
    /// written, so that it needs no weights (a baseline keeps only its shapes); for a dense,
    /// unmasked, unquantized model of these widths it equals <see cref="ToBytes(Mlp)"/>'s length.
    /// </summary>
    public static long DenseFileBytes(Mlp model, IReadOnlyList<int> widths)
    {
        using var preamble = new MemoryStream();
        using (var w = new BinaryWriter(preamble, Encoding.UTF8, leaveOpen: true))
            WritePreamble(w, model, compress: false, saved: null);
        long layers = sizeof(int);
        for (int i = 0; i + 1 < widths.Count; i++)
            layers += 2 * sizeof(int) + 1 + 4L * ((long)widths[i + 1] * widths[i] + widths[i + 1]);
        return HeaderSize + preamble.Length + layers + HashSize;
    }
}
