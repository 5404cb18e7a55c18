using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The .spmlp file format, version 1:
/// <code>
///   magic    8 bytes   89 'S' 'P' 'M' 'L' 'P' 0D 0A
///   version  uint16 LE (1), then 2 reserved bytes
///   length   uint64 LE: payload bytes
///   reserved 4 bytes
///   payload  metadata (UTF-8 JSON, int32-length-prefixed), normalization, then per layer:
///            out, in (int32), flags (1 mask, 2 deleted);
///            if deleted: a bitmap of deleted connections (1 bit per weight, row-major, LSB first);
///            the weights as raw float32 LE (deleted ones left out, so pruned layers shrink),
///            the bias; if masked: a bitmap of masked weights and the values behind the mask
///   sha256   32 bytes over the payload
/// </code>
/// Weights are stored as their exact float32 bits, so a round trip gives bit-identical outputs.
/// </summary>
public static class ModelSerializer
{
    public static readonly byte[] Magic = { 0x89, (byte)'S', (byte)'P', (byte)'M', (byte)'L', (byte)'P', 0x0D, 0x0A };
    public const ushort FormatVersion = 1;
    private const int HeaderSize = 24;
    private const int HashSize = 32;
    // A metric can be infinite (a diverging regression): write it as "Infinity" rather than fail.
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static byte[] ToBytes(Mlp model)
    {
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            var meta = JsonSerializer.SerializeToUtf8Bytes(Metadata.From(model), Json);
            w.Write(meta.Length);
            w.Write(meta);
            WriteOptionalFloats(w, model.FeatureOffset);
            WriteOptionalFloats(w, model.FeatureScale);
            w.Write(model.LayerCount);
            foreach (var layer in model.State)
            {
                w.Write(layer.OutFeatures);
                w.Write(layer.InFeatures);
                byte flags = (byte)((layer.Mask is null ? 0 : 1) | (layer.Deleted is null ? 0 : 2));
                w.Write(flags);
                var weights = layer.Weight.data<float>().ToArray();
                if (layer.Deleted is not null)
                {
                    var deleted = layer.Deleted.data<bool>().ToArray();
                    WriteBits(w, deleted);
                    WriteFloats(w, weights, keep: i => !deleted[i]);
                }
                else WriteFloats(w, weights);
                WriteFloats(w, layer.Bias.data<float>().ToArray());
                if (layer.Mask is not null)
                {
                    var masked = layer.Mask.data<bool>().ToArray().Select(keep => !keep).ToArray();
                    WriteBits(w, masked);
                    WriteFloats(w, layer.Hidden!.data<float>().ToArray(), keep: i => masked[i]);
                }
            }
        }
        var body = payload.ToArray();
        var result = new byte[HeaderSize + body.Length + HashSize];
        Magic.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(12), (ulong)body.Length);
        body.CopyTo(result, HeaderSize);
        SHA256.HashData(body).CopyTo(result, HeaderSize + body.Length);
        return result;
    }

    /// <summary>Writes atomically (temporary file, then rename); refuses to replace a file unless <paramref name="force"/>.</summary>
    public static void Save(Mlp model, string path, bool force)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw SparsePruneException.Argument("PathIsDirectory", $"'{full}' is a folder; give a file name such as '{Path.Combine(full, model.Name + ".spmlp")}'.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new SparsePruneException("DirectoryNotFound", ErrorKind.ObjectNotFound, $"The folder '{dir}' does not exist; create it first.");
        if (File.Exists(full) && !force)
            throw new SparsePruneException("ModelFileExists", ErrorKind.ResourceExists, $"'{full}' already exists. Give -Force to replace it, or choose another -Path.");
        var bytes = ToBytes(model);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, full, overwrite: force);
            }
            catch (IOException) when (!force && File.Exists(full))
            {
                throw new SparsePruneException("ModelFileExists", ErrorKind.ResourceExists, $"'{full}' already exists. Give -Force to replace it, or choose another -Path.");
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static Mlp Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new SparsePruneException("ModelFileNotFound", ErrorKind.ObjectNotFound, $"There is no model file '{full}'.");
        return FromBytes(File.ReadAllBytes(full), full);
    }

    public static Mlp FromBytes(byte[] bytes, string source = "the data")
    {
        if (bytes.Length < Magic.Length && bytes.Length > 0 && Magic.AsSpan(0, bytes.Length).SequenceEqual(bytes))
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: it ends inside the file signature.");
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw SparsePruneException.BadData("NotAModelFile", $"{source} is not a SparsePrune model file (its first bytes are not the .spmlp signature).");
        if (bytes.Length < HeaderSize)
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: it ends inside the header.");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (version != FormatVersion)
            throw new SparsePruneException("UnsupportedModelVersion", ErrorKind.NotSupported,
                $"{source} has format version {version}; this SparsePrune reads version {FormatVersion}. Use the SparsePrune version that wrote it.");
        var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12));
        if (length > (ulong)bytes.Length || (ulong)bytes.Length < HeaderSize + length + HashSize)
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: {bytes.Length} bytes, the header promises {HeaderSize + (decimal)length + HashSize}.");
        if ((ulong)bytes.Length > HeaderSize + length + HashSize)
            throw SparsePruneException.BadData("CorruptModelFile", $"{source} has {bytes.Length - (long)(HeaderSize + (long)length + HashSize)} bytes after its end.");
        var body = bytes.AsSpan(HeaderSize, (int)length);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(HeaderSize + (int)length, HashSize)))
            throw SparsePruneException.BadData("CorruptModelFile", $"{source} is damaged: its checksum does not match its contents.");
        try
        {
            return Parse(body.ToArray());
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or InvalidOperationException or FormatException or NullReferenceException or OverflowException or IndexOutOfRangeException)
        {
            throw new SparsePruneException("CorruptModelFile", ErrorKind.InvalidData, $"{source} passed its checksum but could not be read: {e.Message}", e);
        }
    }

    private static Mlp Parse(byte[] body)
    {
        using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
        var meta = JsonSerializer.Deserialize<Metadata>(r.ReadBytes(r.ReadInt32()), Json) ?? throw new FormatException("no metadata");
        var offset = ReadOptionalFloats(r);
        var scale = ReadOptionalFloats(r);
        int count = r.ReadInt32();
        var layers = new List<LayerState>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                int outF = r.ReadInt32(), inF = r.ReadInt32();
                if (outF <= 0 || inF <= 0 || (long)outF * inF > Mlp.MaxWeights) throw new FormatException($"layer {i} has shape {outF}x{inF}");
                byte flags = r.ReadByte();
                if ((flags & ~3) != 0) throw new FormatException($"layer {i} has unknown flags {flags}");
                int n = checked(outF * inF);
                var shape = new long[] { outF, inF };
                bool[]? deleted = (flags & 2) != 0 ? ReadBits(r, n) : null;
                var weights = ReadFloats(r, n, deleted is null ? null : k => !deleted[k]);
                var bias = ReadFloats(r, outF);
                if (!weights.All(float.IsFinite) || !bias.All(float.IsFinite)) throw new FormatException($"layer {i} holds NaN or infinite values");
                var layer = new LayerState(tensor(weights, shape).DetachFromDisposeScope(), tensor(bias, new long[] { outF }).DetachFromDisposeScope());
                layers.Add(layer);
                if (deleted is not null) layer.SetDeleted(tensor(deleted, shape).DetachFromDisposeScope());
                if ((flags & 1) != 0)
                {
                    var masked = ReadBits(r, n);
                    var hidden = ReadFloats(r, n, k => masked[k]);
                    layer.SetMask(tensor(masked.Select(m => !m).ToArray(), shape).to_type(LayerState.MaskType).DetachFromDisposeScope(), tensor(hidden, shape).DetachFromDisposeScope());
                }
                if (i > 0 && layers[i - 1].OutFeatures != inF) throw new FormatException($"layer {i} takes {inF} inputs but layer {i - 1} has {layers[i - 1].OutFeatures} outputs");
            }
            if (layers.Count == 0) throw new FormatException("no layers");
            if ((offset?.Length ?? layers[0].InFeatures) != layers[0].InFeatures || (scale?.Length ?? layers[0].InFeatures) != layers[0].InFeatures
                || (offset is null) != (scale is null) || (scale is not null && !scale.All(v => float.IsFinite(v) && v != 0)))
                throw new FormatException("the input normalization does not fit the first layer");
            if (meta.Baseline is { } b && (b.LayerWeights.Length != layers.Count || b.LayerNeurons.Length != layers.Count))
                throw new FormatException($"the baseline describes {b.LayerWeights.Length} layers, the file has {layers.Count}");
            var model = new Mlp(meta.Name, Enum.Parse<Activation>(meta.Activation), Enum.Parse<TaskKind>(meta.Task), meta.Seed, layers)
            {
                FeatureNames = meta.FeatureNames,
                ClassNames = meta.ClassNames,
                FeatureOffset = offset,
                FeatureScale = scale,
                InputNormalization = Enum.Parse<Normalization>(meta.InputNormalization),
                Baseline = meta.Baseline,
            };
            if (meta.NeuronOrigins is { } origins)
            {
                if (origins.Length != layers.Count) throw new FormatException($"the neuron origins describe {origins.Length} layers, the file has {layers.Count}");
                for (int i = 0; i < origins.Length; i++)
                    if (origins[i] is { } o && (o.Length != layers[i].OutFeatures || o.Any(v => v < 0) || (meta.Baseline is { } bl && o.Any(v => v >= bl.LayerNeurons[i]))))
                        throw new FormatException($"the neuron origins of layer {i} do not fit its {layers[i].OutFeatures} neurons");
                model.NeuronOrigins = origins;
            }
            model.RestoreHistory(meta.History);
            return model;
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
    }

    /// <summary>Writes the float32 bits of the values <paramref name="keep"/> selects (all when null), little-endian.</summary>
    private static void WriteFloats(BinaryWriter w, float[] values, Func<int, bool>? keep = null)
    {
        using var buffer = new MemoryStream();
        Span<byte> four = stackalloc byte[4];
        for (int i = 0; i < values.Length; i++)
        {
            if (keep is not null && !keep(i)) continue;
            BinaryPrimitives.WriteSingleLittleEndian(four, values[i]);
            buffer.Write(four);
        }
        w.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads <paramref name="count"/> values, of which only those <paramref name="stored"/> selects are in the file (the rest are 0).</summary>
    private static float[] ReadFloats(BinaryReader r, int count, Func<int, bool>? stored = null)
    {
        var values = new float[count];
        Span<byte> four = stackalloc byte[4];
        for (int i = 0; i < count; i++)
        {
            if (stored is not null && !stored(i)) continue;
            if (r.Read(four) != 4) throw new EndOfStreamException();
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(four);
        }
        return values;
    }

    private static void WriteBits(BinaryWriter w, bool[] bits)
    {
        var packed = new byte[(bits.Length + 7) / 8];
        for (int i = 0; i < bits.Length; i++) if (bits[i]) packed[i >> 3] |= (byte)(1 << (i & 7));
        w.Write(packed);
    }

    private static bool[] ReadBits(BinaryReader r, int count)
    {
        var packed = r.ReadBytes((count + 7) / 8);
        if (packed.Length != (count + 7) / 8) throw new EndOfStreamException();
        var bits = new bool[count];
        for (int i = 0; i < count; i++) bits[i] = (packed[i >> 3] & (1 << (i & 7))) != 0;
        return bits;
    }

    private static void WriteOptionalFloats(BinaryWriter w, float[]? values)
    {
        w.Write(values?.Length ?? -1);
        if (values is null) return;
        foreach (var v in values) w.Write(v);
    }

    private static float[]? ReadOptionalFloats(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0) return null;
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = r.ReadSingle();
        return values;
    }

    private sealed class Metadata
    {
        public string Name { get; set; } = "";
        public string Activation { get; set; } = "";
        public string Task { get; set; } = "";
        public int Seed { get; set; }
        public string InputNormalization { get; set; } = nameof(Normalization.None);
        public string[]? FeatureNames { get; set; }
        public string[]? ClassNames { get; set; }
        public string? DatasetName { get; set; }
        public ModelBaseline? Baseline { get; set; }
        public List<HistoryRecord> History { get; set; } = new();
        /// <summary>Per layer, the original index of each output neuron (null: none removed); for rewinding.</summary>
        public int[]?[]? NeuronOrigins { get; set; }
        public DateTime Saved { get; set; }
        public string Writer { get; set; } = "";

        public static Metadata From(Mlp m) => new()
        {
            Name = m.Name, Activation = m.Activation.ToString(), Task = m.Task.ToString(), Seed = m.Seed,
            InputNormalization = m.InputNormalization.ToString(), FeatureNames = m.FeatureNames, ClassNames = m.ClassNames,
            DatasetName = m.Dataset?.Name, Baseline = m.Baseline, History = m.History.ToList(), Saved = DateTime.UtcNow,
            NeuronOrigins = m.NeuronOrigins.Any(o => o is not null) ? m.NeuronOrigins : null,
            Writer = "SparsePrune " + typeof(ModelSerializer).Assembly.GetName().Version,
        };
    }
}
