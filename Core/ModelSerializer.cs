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
///            out, in (int32), flags (1 mask, 2 deleted), weight and bias as raw float32 LE,
///            mask (1 byte per weight) and the values behind it, deleted (1 byte per weight)
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

    public static byte[] ToBytes(Mlp model)
    {
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            var meta = JsonSerializer.SerializeToUtf8Bytes(Metadata.From(model));
            w.Write(meta.Length);
            w.Write(meta);
            WriteFloats(w, model.FeatureOffset);
            WriteFloats(w, model.FeatureScale);
            w.Write(model.LayerCount);
            foreach (var layer in model.State)
            {
                w.Write(layer.OutFeatures);
                w.Write(layer.InFeatures);
                byte flags = (byte)((layer.Mask is null ? 0 : 1) | (layer.Deleted is null ? 0 : 2));
                w.Write(flags);
                WriteTensor(w, layer.Weight);
                WriteTensor(w, layer.Bias);
                if (layer.Mask is not null)
                {
                    var mask = layer.Mask.data<float>().ToArray();
                    var hidden = layer.Hidden!.data<float>().ToArray();
                    w.Write(mask.Select(v => v >= 1f ? (byte)1 : (byte)0).ToArray());
                    for (int i = 0; i < mask.Length; i++) if (mask[i] < 1f) w.Write(hidden[i]);
                }
                if (layer.Deleted is not null)
                    w.Write(layer.Deleted.data<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray());
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
        if ((ulong)bytes.Length < HeaderSize + length + HashSize)
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
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new SparsePruneException("CorruptModelFile", ErrorKind.InvalidData, $"{source} passed its checksum but could not be read: {e.Message}", e);
        }
    }

    private static Mlp Parse(byte[] body)
    {
        using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
        var meta = JsonSerializer.Deserialize<Metadata>(r.ReadBytes(r.ReadInt32())) ?? throw new FormatException("no metadata");
        var offset = ReadFloats(r);
        var scale = ReadFloats(r);
        int count = r.ReadInt32();
        var layers = new List<LayerState>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                int outF = r.ReadInt32(), inF = r.ReadInt32();
                if (outF <= 0 || inF <= 0 || (long)outF * inF > Mlp.MaxWeights) throw new FormatException($"layer {i} has shape {outF}x{inF}");
                byte flags = r.ReadByte();
                long n = (long)outF * inF;
                var layer = new LayerState(
                    tensor(ReadRaw(r, n), new long[] { outF, inF }).DetachFromDisposeScope(),
                    tensor(ReadRaw(r, outF), new long[] { outF }).DetachFromDisposeScope());
                layers.Add(layer);
                if ((flags & 1) != 0)
                {
                    var maskBytes = r.ReadBytes((int)n);
                    if (maskBytes.Length != n) throw new EndOfStreamException();
                    var mask = maskBytes.Select(b => b != 0 ? 1f : 0f).ToArray();
                    var hidden = new float[n];
                    for (long k = 0; k < n; k++) if (mask[k] < 1f) hidden[k] = r.ReadSingle();
                    layer.SetMask(tensor(mask, new long[] { outF, inF }).DetachFromDisposeScope(), tensor(hidden, new long[] { outF, inF }).DetachFromDisposeScope());
                }
                if ((flags & 2) != 0)
                {
                    var del = r.ReadBytes((int)n);
                    if (del.Length != n) throw new EndOfStreamException();
                    layer.SetDeleted(tensor(del.Select(b => b != 0).ToArray(), new long[] { outF, inF }).DetachFromDisposeScope());
                }
                if (i > 0 && layers[i - 1].OutFeatures != inF) throw new FormatException($"layer {i} takes {inF} inputs but layer {i - 1} has {layers[i - 1].OutFeatures} outputs");
            }
            if (layers.Count == 0) throw new FormatException("no layers");
            var model = new Mlp(meta.Name, Enum.Parse<Activation>(meta.Activation), Enum.Parse<TaskKind>(meta.Task), meta.Seed, layers)
            {
                FeatureNames = meta.FeatureNames,
                ClassNames = meta.ClassNames,
                FeatureOffset = offset,
                FeatureScale = scale,
                InputNormalization = Enum.Parse<Normalization>(meta.InputNormalization),
                Baseline = meta.Baseline,
            };
            model.RestoreHistory(meta.History);
            return model;
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
    }

    private static void WriteTensor(BinaryWriter w, Tensor t)
    {
        var values = t.data<float>().ToArray();
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
        w.Write(raw);
    }

    private static float[] ReadRaw(BinaryReader r, long count)
    {
        var raw = r.ReadBytes(checked((int)(count * 4)));
        if (raw.Length != count * 4) throw new EndOfStreamException();
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(i * 4)));
        return values;
    }

    private static void WriteFloats(BinaryWriter w, float[]? values)
    {
        w.Write(values?.Length ?? -1);
        if (values is null) return;
        foreach (var v in values) w.Write(v);
    }

    private static float[]? ReadFloats(BinaryReader r)
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
        public DateTime Saved { get; set; }
        public string Writer { get; set; } = "";

        public static Metadata From(Mlp m) => new()
        {
            Name = m.Name, Activation = m.Activation.ToString(), Task = m.Task.ToString(), Seed = m.Seed,
            InputNormalization = m.InputNormalization.ToString(), FeatureNames = m.FeatureNames, ClassNames = m.ClassNames,
            DatasetName = m.Dataset?.Name, Baseline = m.Baseline, History = m.History.ToList(), Saved = DateTime.UtcNow,
            Writer = "SparsePrune " + typeof(ModelSerializer).Assembly.GetName().Version,
        };
    }
}
