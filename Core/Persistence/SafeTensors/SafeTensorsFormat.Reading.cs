using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Reading SafeTensors files: the header checked against the data before anything is allocated.</summary>
public static partial class SafeTensorsFormat
{
    private sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    public static Mlp Load(string path, Activation? activation = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new SparsePruneException("ModelFileNotFound", ErrorKind.ObjectNotFound, $"There is no model file '{full}'.");
        using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Guarded(() => Read(fs, fs.Length, $"'{full}'", activation, Path.GetFileNameWithoutExtension(full)), $"'{full}'");
    }

    /// <summary>
    /// Reads a SafeTensors file. <paramref name="activation"/> is needed when the file does not
    /// carry SparsePrune's metadata (a plain PyTorch state dict); if it does, it must agree.
    /// </summary>
    public static Mlp FromBytes(byte[] bytes, Activation? activation = null, string source = "the data", string name = "safetensors-model")
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Guarded(() => Read(stream, bytes.LongLength, source, activation, name), source);
    }

    /// <summary>Whatever the checks missed still ends as a SparsePruneException, never a crash.</summary>
    private static Mlp Guarded(Func<Mlp> read, string source)
    {
        try
        {
            return read();
        }
        catch (EndOfStreamException)
        {
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: it ends before the data its header describes.");
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException)
        {
            throw new SparsePruneException("CorruptModelFile", ErrorKind.InvalidData, $"{source} is not a valid SafeTensors model: {e.Message}", e);
        }
    }

    private static Mlp Read(Stream stream, long length, string source, Activation? activation, string fallbackName)
    {
        if (length < 8)
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: {length} bytes, less than the 8-byte header length of a SafeTensors file.");
        Span<byte> eight = stackalloc byte[8];
        stream.ReadExactly(eight);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(eight);
        if (headerLength > (ulong)(length - 8))
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated or damaged: its header length says {headerLength} bytes, but only {length - 8} follow.");
        if (headerLength > MaxHeaderBytes)
            throw Corrupt(source, $"its header length, {headerLength} bytes, is above the 100 MB that SafeTensors allows");
        if (headerLength < 2)
            throw Corrupt(source, $"its header length is {headerLength} bytes, too short for a JSON object");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataLength = length - 8 - (long)headerLength;

        var (metadata, entries) = ParseHeader(headerBytes, source);
        bool ours = metadata is not null && metadata.ContainsKey(Keys.Format);
        var layers = Layout(entries, dataLength, source, ours);
        var info = Describe(metadata, layers, source, activation, fallbackName);

        // The data, in file order (Layout checked that the tensors tile it from 0 to its end).
        var values = new Dictionary<string, float[]>();
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            var v = new float[(e.End - e.Begin) / 4];
            stream.ReadExactly(MemoryMarshal.AsBytes(v.AsSpan()));
            if (!BitConverter.IsLittleEndian)
                for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(MemoryMarshal.AsBytes(v.AsSpan(i, 1)));
            if (!v.All(float.IsFinite))
                throw Corrupt(source, $"tensor '{e.Name}' holds NaN or infinite values");
            values[e.Name] = v;
        }

        var states = new List<LayerState>();
        try
        {
            foreach (var (weight, bias) in layers)
            {
                states.Add(new LayerState(
                    tensor(values[weight.Name], weight.Shape).DetachFromDisposeScope(),
                    tensor(values[bias.Name], bias.Shape).DetachFromDisposeScope()));
            }
            int inputs = (int)layers[0].Weight.Shape[1];
            return new Mlp(info.Name, info.Activation, info.Task, info.Seed, states)
            {
                FeatureNames = info.FeatureNames,
                ClassNames = info.ClassNames,
                Scaling = InputScaling.Identity(inputs), // the normalization is folded into the first layer
            };
        }
        catch
        {
            foreach (var s in states) s.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, string>? Metadata, List<Entry> Entries) ParseHeader(byte[] header, string source)
    {
        if (header[0] != (byte)'{')
            throw Corrupt(source, "its header does not start with '{'");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Corrupt(source, $"its header is not well-formed JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Corrupt(source, "its header is not a JSON object");
            Dictionary<string, string>? metadata = null;
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                    throw Corrupt(source, $"its header names '{p.Name}' twice");
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object)
                        throw Corrupt(source, "its __metadata__ is not a JSON object");
                    metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Corrupt(source, $"its __metadata__ entry '{m.Name}' is not a string");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                            throw Corrupt(source, $"its __metadata__ names '{m.Name}' twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(p, source));
            }
            return (metadata, entries);
        }
    }

    private static Entry ParseEntry(JsonProperty p, string source)
    {
        if (p.Value.ValueKind != JsonValueKind.Object)
            throw Corrupt(source, $"its header entry '{p.Name}' is not a JSON object");
        if (!p.Value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw Corrupt(source, $"tensor '{p.Name}' has no dtype");
        if (!p.Value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
            throw Corrupt(source, $"tensor '{p.Name}' has no shape");
        if (!p.Value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Corrupt(source, $"tensor '{p.Name}' has no data_offsets [begin, end]");
        var dims = shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v >= 0 ? v : -1).ToArray();
        if (dims.Any(d => d < 0))
            throw Corrupt(source, $"tensor '{p.Name}' has a shape that is not a list of non-negative integers");
        var span = offsets.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v >= 0 ? v : -1).ToArray();
        if (span.Any(v => v < 0) || span[0] > span[1])
            throw Corrupt(source, $"tensor '{p.Name}' has data_offsets that are not two non-negative integers, begin ≤ end");
        return new Entry(p.Name, dtype.GetString()!, dims, span[0], span[1]);
    }

    /// <summary>
    /// Checks that the tensors are the weights and biases of Linear layers at Sequential indices
    /// 0, 2, 4, …, F32, shapes chaining, and that their data tiles the data section exactly.
    /// </summary>
    private static List<(Entry Weight, Entry Bias)> Layout(List<Entry> entries, long dataLength, string source, bool ours)
    {
        // A file we wrote that breaks the layout is damaged; someone else's may just be another model.
        SparsePruneException Unreadable(string what) => ours ? Corrupt(source, what)
            : new SparsePruneException("UnsupportedModelFile", ErrorKind.NotSupported,
                $"{source} is a SafeTensors file SparsePrune cannot read as an MLP: {what}. It reads the state dict of torch.nn.Sequential(Linear, activation, Linear, …): tensors 0.weight, 0.bias, 2.weight, 2.bias, … and nothing else.");

        if (entries.Count == 0) throw Corrupt(source, "it holds no tensors");
        var byIndex = new SortedDictionary<int, (Entry? W, Entry? B)>();
        foreach (var e in entries)
        {
            var m = ParameterName.Match(e.Name);
            if (!m.Success) throw Unreadable($"tensor '{e.Name}' is not a Linear layer's weight or bias of a Sequential");
            int index = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            byIndex.TryGetValue(index, out var pair);
            byIndex[index] = m.Groups[2].Value == "weight" ? (e, pair.B) : (pair.W, e);
        }
        var layers = new List<(Entry, Entry)>();
        int k = 0;
        foreach (var (index, (w, b)) in byIndex)
        {
            if (index != 2 * k)
                throw Unreadable($"its Linear layers are at Sequential indices {string.Join(", ", byIndex.Keys)}; they must be at 0, 2, 4, … (one activation between two Linear layers, nothing else)");
            if (w is null) throw Unreadable($"layer {index} has a bias but no weight ({index}.weight is missing)");
            if (b is null) throw Unreadable($"layer {index} has a weight but no bias ({index}.bias is missing; Linear(bias=False) is not supported)");
            layers.Add((w, b));
            k++;
        }

        foreach (var e in entries)
            if (e.DType != "F32")
                throw new SparsePruneException("UnsupportedModelFile", ErrorKind.NotSupported,
                    $"{source}: tensor '{e.Name}' has dtype {e.DType}; SparsePrune reads F32 only (in PyTorch, convert with model.float() before saving).");

        long total = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var (w, b) = layers[i];
            if (w.Shape.Length != 2) throw Corrupt(source, $"tensor '{w.Name}' has shape [{string.Join(", ", w.Shape)}]; a Linear weight is [out, in]");
            if (b.Shape.Length != 1) throw Corrupt(source, $"tensor '{b.Name}' has shape [{string.Join(", ", b.Shape)}]; a Linear bias is [out]");
            if (w.Shape.Any(d => d < 1 || d > Mlp.MaxWidth))
                throw Corrupt(source, $"tensor '{w.Name}' has shape [{string.Join(", ", w.Shape)}]; every width must be 1 to {Mlp.MaxWidth}");
            if (b.Shape[0] != w.Shape[0])
                throw Corrupt(source, $"tensor '{b.Name}' has {b.Shape[0]} values but '{w.Name}' has {w.Shape[0]} outputs");
            if (i > 0 && w.Shape[1] != layers[i - 1].Item1.Shape[0])
                throw Corrupt(source, $"the shapes do not chain: '{w.Name}' takes {w.Shape[1]} inputs but '{layers[i - 1].Item1.Name}' has {layers[i - 1].Item1.Shape[0]} outputs");
            total += w.Shape[0] * w.Shape[1];
        }
        if (total > Mlp.MaxWeights)
            throw Corrupt(source, $"its layers hold {total} weights; the limit is {Mlp.MaxWeights}");

        foreach (var e in entries)
        {
            long bytes = 4 * e.Shape.Aggregate(1L, (a, d) => a * d);
            if (e.End - e.Begin != bytes)
                throw Corrupt(source, $"tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}): {e.End - e.Begin} bytes, but its shape needs {bytes}");
            if (e.End > dataLength)
                throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated or damaged: tensor '{e.Name}' ends at data byte {e.End}, but the data section has {dataLength} bytes.");
        }
        long at = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < at) throw Corrupt(source, $"tensor '{e.Name}' overlaps another tensor (its data starts at byte {e.Begin}, before byte {at})");
            if (e.Begin > at) throw Corrupt(source, $"there are {e.Begin - at} unused bytes before tensor '{e.Name}' (at byte {at})");
            at = e.End;
        }
        if (at != dataLength)
            throw Corrupt(source, $"{dataLength - at} bytes follow the last tensor");
        return layers;
    }

    private sealed record ModelInfo(string Name, Activation Activation, TaskKind Task, int Seed, string[]? FeatureNames, string[]? ClassNames);

    /// <summary>What the metadata says about the model, checked against the tensors.</summary>
    private static ModelInfo Describe(Dictionary<string, string>? meta, List<(Entry Weight, Entry Bias)> layers, string source, Activation? given, string fallbackName)
    {
        var widths = new[] { (int)layers[0].Weight.Shape[1] }.Concat(layers.Select(l => (int)l.Weight.Shape[0])).ToArray();
        int inputs = widths[0], outputs = widths[^1];
        if (meta is null || !meta.TryGetValue(Keys.Format, out var version))
        {
            if (given is not { } assumed)
                throw SparsePruneException.Argument("ActivationRequired",
                    $"{source} is a SafeTensors state dict without SparsePrune's metadata, so it does not say which activation sits between its Linear layers ({string.Join(",", widths)}). Give -Activation: {string.Join(", ", Activation.Names)}, with parameters as in LeakyReLU(0.2).");
            return new ModelInfo(fallbackName, assumed, outputs == 1 ? TaskKind.Regression : TaskKind.Classification, 0, null, null);
        }
        if (version != FormatVersion)
            throw new SparsePruneException("UnsupportedModelFile", ErrorKind.NotSupported,
                $"{source} has SparsePrune SafeTensors layout version '{version}'; this SparsePrune reads version {FormatVersion}. Use the SparsePrune version that wrote it.");

        if (!meta.TryGetValue(Keys.Activation, out var act) || Activation.FromFile(act) is not { } activation)
            throw new SparsePruneException("UnsupportedModelFile", ErrorKind.NotSupported,
                $"{source} names the activation '{act}', which SparsePrune does not know ({string.Join(", ", Activation.Names)}, with parameters as in LeakyReLU(0.2)).");
        if (given is { } g && g != activation)
            throw SparsePruneException.Argument("ActivationMismatch",
                $"{source} says its activation is {activation}, but -Activation is {g}. Leave out -Activation: it is for files that do not name their activation.");
        if (!meta.TryGetValue(Keys.Task, out var taskText) || !Enum.TryParse<TaskKind>(taskText, ignoreCase: false, out var task) || !Enum.IsDefined(task) || taskText != task.ToString())
            throw Corrupt(source, $"its metadata names the task '{taskText}'; expected Classification or Regression");
        if (task == TaskKind.Classification && outputs < 2)
            throw Corrupt(source, $"it is a classifier with {outputs} output; a classifier has one output per class (at least 2)");
        if (meta.TryGetValue(Keys.Widths, out var w))
        {
            var stated = StringArray<int>(w, Keys.Widths, source);
            if (!stated.SequenceEqual(widths))
                throw Corrupt(source, $"its metadata gives the widths [{string.Join(",", stated)}] but its tensors have [{string.Join(",", widths)}]");
        }
        string[]? classes = null, features = null;
        if (meta.TryGetValue(Keys.ClassNames, out var c))
        {
            classes = StringArray<string>(c, Keys.ClassNames, source);
            if (classes.Length != outputs) throw Corrupt(source, $"its metadata names {classes.Length} classes for {outputs} outputs");
        }
        if (meta.TryGetValue(Keys.FeatureNames, out var f))
        {
            features = StringArray<string>(f, Keys.FeatureNames, source);
            if (features.Length != inputs) throw Corrupt(source, $"its metadata names {features.Length} features for {inputs} inputs");
        }
        int seed = meta.TryGetValue(Keys.Seed, out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var name = meta.TryGetValue(Keys.Name, out var n) && !string.IsNullOrWhiteSpace(n) ? n : fallbackName;
        return new ModelInfo(name, activation, task, seed, features, classes);
    }

    private static T[] StringArray<T>(string json, string key, string source) =>
        MetadataJson.Array<T>(json) ?? throw Corrupt(source, MetadataJson.Expected<T>(key));

    private static SparsePruneException Corrupt(string source, string what) =>
        SparsePruneException.BadData("CorruptModelFile", $"{source} is not a valid SafeTensors model: {what}.");
}
