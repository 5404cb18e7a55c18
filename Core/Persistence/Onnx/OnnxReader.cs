using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Reads an MLP-shaped ONNX graph into an <see cref="Mlp"/> (see <see cref="OnnxFormat"/>):
/// the graph is matched by <see cref="OnnxGraphMatcher"/>, its sizes checked before the layers
/// are allocated, and SparsePrune's own metadata (name, task, class and feature names) used when
/// present. A sparse initializer used as a weight becomes a connection-pruned layer: the
/// positions it does not list are deleted connections, as SparsePrune's own export writes them
/// (so a pruned model keeps its sparse storage and kernel through an ONNX round trip, and
/// training does not regrow the absent weights).
/// </summary>
internal static class OnnxReader
{
    /// <summary>From this many weights (64 MiB of floats) the file's memory is returned before the layers are allocated.</summary>
    private const long LargeModelWeights = 16L << 20;

    public static Mlp Read(byte[] bytes, string source, string name) =>
        Guarded(() => ReadModel(bytes.Length, () => ModelProto.Parser.ParseFrom(bytes), source, name), source);

    /// <summary>Reads from a stream of <paramref name="length"/> bytes (a file): no copy of the whole file in memory.</summary>
    public static Mlp Read(Stream stream, long length, string source, string name) =>
        Guarded(() => ReadModel(length, () => ModelProto.Parser.ParseFrom(stream), source, name), source);

    /// <summary>Whatever the checks missed still ends as a SparsePruneException, never a crash.</summary>
    private static Mlp Guarded(Func<Mlp> read, string source)
    {
        try
        {
            return read();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw OnnxReadErrors.Corrupt(source, $"its bytes are not an ONNX ModelProto, or it is truncated ({e.Message})", e);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException or InvalidCastException)
        {
            throw OnnxReadErrors.Corrupt(source, e.Message, e);
        }
    }

    private static Mlp ReadModel(long length, Func<ModelProto> parse, string source, string fallbackName)
    {
        if (length == 0)
            throw OnnxReadErrors.Corrupt(source, "it is empty");
        var model = parse();
        if (!model.HasIrVersion)
            throw OnnxReadErrors.Corrupt(source, "it has no ir_version: it is not an ONNX ModelProto");
        if (model.Graph is null)
            throw OnnxReadErrors.Corrupt(source, "it has no graph");
        long opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset == 0) opset = 13; // ir_version 3 on require an opset; an old file without one: assume the common one.

        var graph = new OnnxGraphMatcher(model.Graph, opset, source).Match();
        var layers = graph.Layers;
        long total = 0;
        foreach (var l in layers)
        {
            if (l.In < 1 || l.Out < 1 || l.In > Mlp.MaxWidth || l.Out > Mlp.MaxWidth)
                throw OnnxReadErrors.Corrupt(source, $"{l.Source} is {l.Out} × {l.In}; every width must be 1 to {Mlp.MaxWidth}");
            total += (long)l.Out * l.In;
        }
        if (total > Mlp.MaxWeights)
            throw OnnxReadErrors.Corrupt(source, $"its layers hold {total} weights; the limit is {Mlp.MaxWeights}");

        var meta = Metadata(model, source);
        var info = Describe(meta, graph, source, fallbackName);
        // The matcher let go of the file's tensor bytes as it decoded them, but the collector keeps
        // that memory committed: a large file would cost its bytes, the decoded floats and the
        // layers at once. Returning it first keeps the peak near the floats plus the layers.
        if (total >= LargeModelWeights)
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var states = new List<LayerState>();
        try
        {
            foreach (var l in layers)
            {
                var shape = new long[] { l.Out, l.In };
                var state = new LayerState(NativeCopy.Floats(l.Weight, shape).DetachFromDisposeScope(), NativeCopy.Floats(l.Bias, new long[] { l.Out }).DetachFromDisposeScope());
                states.Add(state);
                if (l.Present is { } present && present.Any(p => !p))
                    state.SetDeleted(tensor(present.Select(p => !p).ToArray(), shape).DetachFromDisposeScope());
            }
            int inputs = layers[0].In;
            return new Mlp(info.Name, info.Activation, info.Task, info.Seed, states)
            {
                FeatureNames = info.FeatureNames,
                ClassNames = info.ClassNames,
                Scaling = InputScaling.Identity(inputs), // the graph takes raw inputs
            };
        }
        catch
        {
            foreach (var s in states) s.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> Metadata(ModelProto model, string source)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in model.MetadataProps)
            if (!meta.TryAdd(p.Key, p.Value))
                throw OnnxReadErrors.Corrupt(source, $"its metadata_props name '{p.Key}' twice");
        return meta;
    }

    private sealed record ModelInfo(string Name, Activation Activation, TaskKind Task, int Seed, string[]? FeatureNames, string[]? ClassNames);

    /// <summary>What the graph and (when present) SparsePrune's metadata say about the model, checked against each other.</summary>
    private static ModelInfo Describe(Dictionary<string, string> meta, OnnxMlpGraph graph, string source, string fallbackName)
    {
        var layers = graph.Layers;
        var widths = new[] { layers[0].In }.Concat(layers.Select(l => l.Out)).ToArray();
        int inputs = widths[0], outputs = widths[^1];

        Activation? stated = null;
        if (meta.TryGetValue(OnnxMetadataKeys.Activation, out var act))
            stated = Activation.FromFile(act)
                ?? throw OnnxReadErrors.Corrupt(source, $"its metadata names the activation '{act}'; expected one of {string.Join(", ", Activation.Names)}, with parameters as in LeakyReLU(0.2)");
        if (stated is { } s && graph.Activation is { } g && !s.AgreesWithGraph(g))
            throw OnnxReadErrors.Corrupt(source, $"its metadata says the activation is {s}, but its graph computes {g}");
        // The metadata's when it agrees (it keeps the parameters in full, a graph as float32);
        // a single layer has no activation: the metadata's, else ReLU (it never applies).
        var activation = stated ?? graph.Activation ?? Activation.ReLU;

        TaskKind task;
        if (meta.TryGetValue(OnnxMetadataKeys.Task, out var taskText))
        {
            if (!Enum.TryParse(taskText, ignoreCase: false, out task) || !Enum.IsDefined(task) || taskText != task.ToString())
                throw OnnxReadErrors.Corrupt(source, $"its metadata names the task '{taskText}'; expected Classification or Regression");
            if (task == TaskKind.Regression && graph.EndsInSoftmax)
                throw OnnxReadErrors.Corrupt(source, "its metadata says it is a regressor, but its graph ends in a Softmax");
        }
        else task = graph.EndsInSoftmax || outputs > 1 ? TaskKind.Classification : TaskKind.Regression;
        if (task == TaskKind.Classification && outputs < 2)
            throw graph.EndsInSoftmax && !meta.ContainsKey(OnnxMetadataKeys.Task)
                ? OnnxReadErrors.Unsupported(source, "it ends in a Softmax over one output (always 1); a classifier here has one output per class (at least 2)")
                : OnnxReadErrors.Corrupt(source, $"it is a classifier with {outputs} output; a classifier has one output per class (at least 2)");

        if (meta.TryGetValue(OnnxMetadataKeys.Widths, out var w))
        {
            var given = JsonArray<int>(w, OnnxMetadataKeys.Widths, source);
            if (!given.SequenceEqual(widths))
                throw OnnxReadErrors.Corrupt(source, $"its metadata gives the widths [{string.Join(",", given)}] but its graph has [{string.Join(",", widths)}]");
        }
        string[]? classes = graph.Labels, features = null;
        if (meta.TryGetValue(OnnxMetadataKeys.ClassNames, out var c))
        {
            classes = JsonArray<string>(c, OnnxMetadataKeys.ClassNames, source);
            if (task != TaskKind.Classification) throw OnnxReadErrors.Corrupt(source, "its metadata names classes, but it is a regressor");
            if (classes.Length != outputs) throw OnnxReadErrors.Corrupt(source, $"its metadata names {classes.Length} classes for {outputs} outputs");
        }
        else if (classes is not null && task != TaskKind.Classification)
            throw OnnxReadErrors.Corrupt(source, "its graph lists class labels, but it is a regressor");
        if (meta.TryGetValue(OnnxMetadataKeys.FeatureNames, out var f))
        {
            features = JsonArray<string>(f, OnnxMetadataKeys.FeatureNames, source);
            if (features.Length != inputs) throw OnnxReadErrors.Corrupt(source, $"its metadata names {features.Length} features for {inputs} inputs");
        }
        int seed = meta.TryGetValue(OnnxMetadataKeys.Seed, out var sd) && int.TryParse(sd, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var name = meta.TryGetValue(OnnxMetadataKeys.Name, out var n) && !string.IsNullOrWhiteSpace(n) ? n : fallbackName;
        return new ModelInfo(name, activation, task, seed, features, classes);
    }

    private static T[] JsonArray<T>(string json, string key, string source) =>
        MetadataJson.Array<T>(json) ?? throw OnnxReadErrors.Corrupt(source, MetadataJson.Expected<T>(key));
}
