using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A model as a PyTorch state dict in the SafeTensors format, loadable into
/// <c>torch.nn.Sequential(Linear, activation, Linear, …)</c>:
/// <code>
///   length   uint64 LE: header bytes
///   header   UTF-8 JSON, padded with spaces to a multiple of 8 bytes:
///            "__metadata__": string → string (see the keys below), then per Linear layer k at
///            Sequential index 2k: "2k.weight" [out, in] and "2k.bias" [out], dtype "F32",
///            "data_offsets" [begin, end) relative to the data, contiguous in header order
///   data     the tensors' float32 values, little-endian, row-major
/// </code>
/// The network takes raw inputs: the model's feature normalization is folded into the first
/// layer. Masked and deleted weights are stored as zeros; masks, deletions, baseline and history
/// are not in the file (that is what .spmlp is for).
/// </summary>
public static partial class SafeTensorsFormat
{
    /// <summary>The value of <see cref="Keys.Format"/> this version writes and reads.</summary>
    public const string FormatVersion = "1";
    /// <summary>Bytes needed to tell a SafeTensors file from other content.</summary>
    internal const int SniffLength = 9;
    /// <summary>The reference implementation refuses headers above 100 MB; so do we.</summary>
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>The keys of <c>__metadata__</c>; every value is a string, lists are JSON arrays.</summary>
    public static class Keys
    {
        /// <summary>"pt": a PyTorch state dict (what Hugging Face loaders look for).</summary>
        public const string TorchFormat = "format";
        /// <summary>The version of this layout (<see cref="FormatVersion"/>); its presence marks a SparsePrune file.</summary>
        public const string Format = "sparseprune_format";
        public const string Writer = "writer";
        public const string Name = "name";
        public const string Task = "task";
        /// <summary>All widths, input first, as a JSON array: "[64,128,10]".</summary>
        public const string Widths = "widths";
        /// <summary>SparsePrune's spelling of the activation (<see cref="SparsePrune.Activation"/>): "ReLU", "LeakyReLU" (slope 0.01), "LeakyReLU(0.2)".</summary>
        public const string Activation = "activation";
        /// <summary>The torch.nn module class between the Linear layers.</summary>
        public const string TorchActivation = "torch_activation";
        /// <summary>Its keyword arguments as a JSON object: "{}", "{\"negative_slope\": 0.01}", "{\"alpha\": 1}".</summary>
        public const string TorchActivationKwargs = "torch_activation_kwargs";
        /// <summary>"raw": the network takes unnormalized inputs.</summary>
        public const string Inputs = "inputs";
        /// <summary>The normalization folded into the first layer: Standard, MinMax or None.</summary>
        public const string FoldedNormalization = "folded_normalization";
        public const string ClassNames = "class_names";
        public const string FeatureNames = "feature_names";
        public const string Seed = "seed";
    }

    private static readonly JsonSerializerOptions ArrayJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly Regex ParameterName = new(@"^(0|[1-9][0-9]{0,8})\.(weight|bias)$", RegexOptions.CultureInvariant);

    /// <summary>Does <paramref name="start"/> (the first bytes of a file) look like a SafeTensors file?</summary>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> start) =>
        start.Length >= SniffLength && start[8] == (byte)'{' && !start.StartsWith(SpmlpFormat.Magic);

    // ---- writing --------------------------------------------------------------------------

    /// <summary>One Linear layer as the file stores it: weight (out × in, row-major) and bias.</summary>
    internal sealed record LayerValues(int Out, int In, float[] Weight, float[] Bias);

    /// <summary>
    /// Every layer's values as they go into the file: masked and deleted weights read 0, and the
    /// input normalization x' = (x − offset) / scale folded into the first layer:
    /// W' = W / scale (per input column), b' = b − W'·offset, computed in double. Zeros stay
    /// exactly zero (+0).
    /// </summary>
    internal static List<LayerValues> FoldedParameters(Mlp model, bool foldNormalization = true)
    {
        var layers = new List<LayerValues>();
        using (var scope = NewDisposeScope())
        {
            foreach (var l in model.State)
            {
                var w = l.Weight.detach().cpu().contiguous().data<float>().ToArray();
                // A weight masked by multiplying can be -0: every zero goes out as +0.
                for (long k = 0; k < w.LongLength; k++) if (w[k] == 0f) w[k] = 0f;
                var b = l.Bias.detach().cpu().contiguous().data<float>().ToArray();
                layers.Add(new LayerValues(l.OutFeatures, l.InFeatures, w, b));
            }
        }
        if (foldNormalization && model.FeatureOffset is { } offset && model.FeatureScale is { } scale)
            Fold(layers[0], offset, scale, model.Name);
        return layers;
    }

    /// <summary>Folds (x − offset) / scale into <paramref name="first"/> (its arrays change in place), as <see cref="InputFolding"/> folds a model.</summary>
    internal static void Fold(LayerValues first, float[] offset, float[] scale, string modelName)
    {
        if (!InputFolding.FoldArrays(first.Weight, first.Bias, first.Out, first.In, offset, scale))
            throw SparsePruneException.Operation("CannotFoldNormalization",
                $"Folding the input normalization of model '{modelName}' into its first layer gives values too large for float32 (a feature's scale is nearly 0). Export it as .spmlp instead.");
    }

    /// <summary>The file's bytes (for files above 2 GB, <see cref="Save"/> streams them).</summary>
    public static byte[] ToBytes(Mlp model)
    {
        using var stream = new MemoryStream();
        Write(model, FoldedParameters(model), stream);
        return stream.ToArray();
    }

    /// <summary>Writes atomically; refuses to replace a file unless <paramref name="force"/> (see <see cref="ModelFile"/>).</summary>
    public static void Save(Mlp model, string path, bool force)
    {
        var full = ModelFile.CheckTarget(path, force, model.Name + ".safetensors");
        // Folded before the file is created, so that a model that cannot be exported leaves nothing behind.
        var layers = FoldedParameters(model);
        ModelFile.WriteAtomically(full, force, s => Write(model, layers, s));
    }

    private static void Write(Mlp model, List<LayerValues> layers, Stream stream)
    {
        var header = Header(model, layers);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var l in layers)
        {
            WriteFloats(stream, l.Weight);
            WriteFloats(stream, l.Bias);
        }
    }

    private static byte[] Header(Mlp model, List<LayerValues> layers)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in Metadata(model))
                json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            for (int i = 0; i < layers.Count; i++)
            {
                var l = layers[i];
                offset = WriteEntry(json, $"{2 * i}.weight", new long[] { l.Out, l.In }, offset);
                offset = WriteEntry(json, $"{2 * i}.bias", new long[] { l.Out }, offset);
            }
            json.WriteEndObject();
        }
        // Padded with spaces so that the data starts 8-byte aligned.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static long WriteEntry(Utf8JsonWriter json, string name, long[] shape, long begin)
    {
        long end = begin + 4 * shape.Aggregate(1L, (a, b) => a * b);
        json.WriteStartObject(name);
        json.WriteString("dtype", "F32");
        json.WriteStartArray("shape");
        foreach (var d in shape) json.WriteNumberValue(d);
        json.WriteEndArray();
        json.WriteStartArray("data_offsets");
        json.WriteNumberValue(begin);
        json.WriteNumberValue(end);
        json.WriteEndArray();
        json.WriteEndObject();
        return end;
    }

    private static IEnumerable<(string Key, string Value)> Metadata(Mlp model)
    {
        yield return (Keys.TorchFormat, "pt");
        yield return (Keys.Format, FormatVersion);
        yield return (Keys.Writer, "SparsePrune " + typeof(SafeTensorsFormat).Assembly.GetName().Version);
        yield return (Keys.Name, model.Name);
        yield return (Keys.Task, model.Task.ToString());
        yield return (Keys.Widths, JsonSerializer.Serialize(model.Widths));
        yield return (Keys.Activation, model.Activation.ToString());
        yield return (Keys.TorchActivation, model.Activation.TorchModule);
        yield return (Keys.TorchActivationKwargs, model.Activation.TorchKwargs);
        yield return (Keys.Inputs, "raw");
        yield return (Keys.FoldedNormalization, (model.FeatureOffset is null ? Normalization.None : model.InputNormalization).ToString());
        if (model.ClassNames is { } classes) yield return (Keys.ClassNames, JsonSerializer.Serialize(classes, ArrayJson));
        if (model.FeatureNames is { } features) yield return (Keys.FeatureNames, JsonSerializer.Serialize(features, ArrayJson));
        yield return (Keys.Seed, model.Seed.ToString(CultureInfo.InvariantCulture));
    }

    private static void WriteFloats(Stream stream, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        Span<byte> four = stackalloc byte[4];
        foreach (var v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(four, v);
            stream.Write(four);
        }
    }

}
