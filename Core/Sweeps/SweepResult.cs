using System.Text;
using System.Text.Json;

namespace SparsePrune;

/// <summary>
/// What one point of a sweep gave: its parameters and seed, the compression report's headline
/// counts, the metric before and after, the measured latency, the seconds the point took, and
/// where it ran. The same object whether the point ran in this session, in a worker process,
/// on a remote host or in a shard: every engine hands results over as <see cref="ToJson"/>
/// text, and result files hold that text.
/// </summary>
public sealed class SweepResult : CompressionTotals
{
    public SweepResult() { }

    private SweepResult(CompressionTotals totals) : base(totals) { }

    private SweepResult(CompressionCounts counts, long fileBytes, long baselineFileBytes) : base(counts, fileBytes, baselineFileBytes) { }

    /// <summary>
    /// A fingerprint of the sweep (model bytes, data set, every point): results of one sweep carry
    /// the same one, so Import-SweepResult can refuse to merge shards of different sweeps.
    /// </summary>
    public string SweepId { get; init; } = "";
    /// <summary>The point's number in the whole grid (0-based, grid order).</summary>
    public int Point { get; init; }
    /// <summary>Points in the whole grid.</summary>
    public int Points { get; init; }
    /// <summary>The point's parameters as one line ("Ratio=0.8; Structure=Neuron").</summary>
    public string Settings { get; init; } = "";
    public int Seed { get; init; }
    public string ModelName { get; init; } = "";
    public string? Dataset { get; init; }
    public string? MetricName { get; init; }
    public double? BaselineMetric { get; init; }
    public double? Metric { get; init; }
    /// <summary>Metric now minus baseline (negative accuracy change or positive loss change is a cost).</summary>
    public double? MetricChange => Metric is { } m && BaselineMetric is { } b ? m - b : null;
    public double Speedup => Flops == 0 ? 0 : (double)BaselineFlops / Flops;
    /// <summary>Median time of one forward pass of a single row after compression (Measure-Mlp's LatencyMs), in milliseconds.</summary>
    public double? LatencyMs { get; init; }
    /// <summary>Wall-clock seconds the point took: copy, compression, report and measurement.</summary>
    public double Seconds { get; init; }
    /// <summary>LibTorch threads the point ran with (results are bit-identical for the same seeds at the same count).</summary>
    public int Threads { get; init; }
    /// <summary>The machine the point ran on.</summary>
    public string ComputerName { get; init; } = "";
    /// <summary>The engine and worker: "session", "process 2 of 4", "ssh host1 (1)", "shard 0/3".</summary>
    public string Worker { get; init; } = "";
    /// <summary>How many workers started the point: more than 1 when a worker was lost while running it.</summary>
    public int Attempts { get; init; } = 1;
    /// <summary>Why the point ran more than once, when it did.</summary>
    public string? Note { get; init; }
    /// <summary>The compressed model (Invoke-PruningSweep -PassThru); never in result files.</summary>
    public Mlp? Model { get; init; }

    /// <summary>The point itself (its parameters as values, for columns and for re-running it).</summary>
    internal SweepPoint Spec { get; init; } = new();
    internal IReadOnlyList<LayerReport> Layers { get; init; } = Array.Empty<LayerReport>();

    /// <summary>The result of a point from its compression report and measurements.</summary>
    public static SweepResult Create(string sweepId, int points, SweepPoint point, CompressionReport report, double? latencyMs,
        double seconds, int threads, string computerName, string worker) => new(report)
    {
        SweepId = sweepId, Point = point.Index, Points = points, Settings = point.Describe(), Seed = point.Seed, Spec = point,
        ModelName = report.Model, Dataset = report.Dataset, Layers = report.Layers,
        MetricName = report.MetricName, BaselineMetric = report.BaselineMetric, Metric = report.Metric,
        LatencyMs = latencyMs, Seconds = seconds, Threads = threads, ComputerName = computerName, Worker = worker,
    };

    /// <summary>This result as the point ran elsewhere: the same figures, another attempt count and note.</summary>
    public SweepResult WithAttempts(int attempts, string? note) => Copy(attempts, note, Model);

    /// <summary>This result with its compressed model attached (-PassThru).</summary>
    public SweepResult WithModel(Mlp? model) => Copy(Attempts, Note, model);

    private SweepResult Copy(int attempts, string? note, Mlp? model) => new(this)
    {
        SweepId = SweepId, Point = Point, Points = Points, Settings = Settings, Seed = Seed, Spec = Spec, ModelName = ModelName, Dataset = Dataset, Layers = Layers,
        MetricName = MetricName, BaselineMetric = BaselineMetric, Metric = Metric,
        LatencyMs = LatencyMs, Seconds = Seconds, Threads = Threads, ComputerName = ComputerName, Worker = Worker,
        Attempts = attempts, Note = note, Model = model,
    };

    /// <summary>
    /// The report this result summarizes (headline and per-layer rows, no history): what
    /// Export-CompressionReport draws for a sweep. Named after the point.
    /// </summary>
    public CompressionReport ToReport() => new(this)
    {
        Model = $"point {Point}: {Settings}", Dataset = Dataset, Layers = Layers,
        MetricName = MetricName, BaselineMetric = BaselineMetric, Metric = Metric,
    };

    private const string Format = "sparseprune-sweep-result";
    private const int Version = 1;

    /// <summary>The result as one JSON document (what result files hold and workers send back).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteString("sweepId", SweepId);
            w.WriteNumber("point", Point);
            w.WriteNumber("points", Points);
            w.WriteString("settings", Settings);
            w.WriteNumber("seed", Seed);
            w.WriteString("model", ModelName);
            w.WriteString("dataset", Dataset);
            w.WriteString("metricName", MetricName);
            WriteNumber(w, "baselineMetric", BaselineMetric);
            WriteNumber(w, "metric", Metric);
            WriteNumber(w, "latencyMs", LatencyMs);
            WriteNumber(w, "seconds", Seconds);
            w.WriteNumber("threads", Threads);
            w.WriteString("computerName", ComputerName);
            w.WriteString("worker", Worker);
            w.WriteNumber("attempts", Attempts);
            w.WriteString("note", Note);
            w.WritePropertyName("counts");
            WriteCounts(w, this);
            w.WriteStartArray("layers");
            foreach (var l in Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", l.Layer);
                w.WriteNumber("inFeatures", l.InFeatures);
                w.WriteNumber("outFeatures", l.OutFeatures);
                w.WriteString("stored", l.Stored.ToString());
                if (l.Bits is { } bits) w.WriteNumber("bits", bits); else w.WriteNull("bits");
                w.WritePropertyName("counts");
                WriteCounts(w, l);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("spec");
            using (var spec = JsonDocument.Parse(Spec.ToJson())) spec.RootElement.WriteTo(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads <see cref="ToJson"/> text; anything else is CorruptSweepResult naming <paramref name="source"/>.</summary>
    public static SweepResult FromJson(string json, string source = "the data")
    {
        using var doc = SweepJson.Parse(json, $"the sweep result in {source}");
        var e = doc.RootElement;
        try
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("format", out var f) || f.GetString() != Format)
                throw SparsePruneException.BadData("CorruptSweepResult", $"{source} is not a sweep result: it has no \"format\": \"{Format}\" entry.");
            if (e.GetProperty("version").GetInt32() != Version)
                throw SparsePruneException.BadData("UnsupportedSweepResult", $"{source} is a sweep result of version {e.GetProperty("version").GetInt32()}; this module reads version {Version}. Update SparsePrune.");
            var countsElement = e.GetProperty("counts");
            var counts = ReadCounts(countsElement);
            var layers = e.GetProperty("layers").EnumerateArray().Select(l =>
            {
                var c = ReadCounts(l.GetProperty("counts"));
                return new LayerReport(c)
                {
                    Layer = l.GetProperty("layer").GetInt32(), InFeatures = l.GetProperty("inFeatures").GetInt32(), OutFeatures = l.GetProperty("outFeatures").GetInt32(),
                    Stored = Enum.Parse<LayerStorage>(l.GetProperty("stored").GetString()!),
                    Bits = l.GetProperty("bits").ValueKind == JsonValueKind.Null ? null : l.GetProperty("bits").GetInt32(),
                };
            }).ToList();
            var point = SweepPoint.FromJson(e.GetProperty("spec"));
            // Results written before they carried the file (0: unknown, and CompressionRatio 0).
            return new SweepResult(counts, OptionalCount(countsElement, "fileBytes"), OptionalCount(countsElement, "baselineFileBytes"))
            {
                SweepId = e.GetProperty("sweepId").GetString()!, Point = e.GetProperty("point").GetInt32(), Points = e.GetProperty("points").GetInt32(),
                Settings = e.GetProperty("settings").GetString()!, Seed = e.GetProperty("seed").GetInt32(), Spec = point,
                ModelName = e.GetProperty("model").GetString()!, Dataset = e.GetProperty("dataset").GetString(),
                MetricName = e.GetProperty("metricName").GetString(),
                BaselineMetric = ReadNumber(e, "baselineMetric"), Metric = ReadNumber(e, "metric"), LatencyMs = ReadNumber(e, "latencyMs"),
                Seconds = ReadNumber(e, "seconds") ?? 0, Threads = e.GetProperty("threads").GetInt32(),
                ComputerName = e.GetProperty("computerName").GetString() ?? "", Worker = e.GetProperty("worker").GetString() ?? "",
                Attempts = e.GetProperty("attempts").GetInt32(), Note = e.GetProperty("note").GetString(),
                Layers = layers,
            };
        }
        catch (Exception x) when (x is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or NullReferenceException)
        {
            throw SparsePruneException.BadData("CorruptSweepResult", $"The sweep result in {source} is not in the expected form: {x.Message}");
        }
    }

    private static readonly string[] CountNames =
    {
        "weights", "nonZeroWeights", "baselineWeights", "parameters", "nonZeroParameters", "baselineParameters",
        "neurons", "baselineNeurons", "denseBytes", "baselineDenseBytes", "storedBytes", "flops", "baselineFlops",
    };

    /// <summary>The counts as a JSON object; a whole model's with its file's sizes (a layer has no file).</summary>
    private static void WriteCounts(Utf8JsonWriter w, CompressionCounts c)
    {
        long[] values =
        {
            c.Weights, c.NonZeroWeights, c.BaselineWeights, c.Parameters, c.NonZeroParameters, c.BaselineParameters,
            c.Neurons, c.BaselineNeurons, c.DenseBytes, c.BaselineDenseBytes, c.StoredBytes, c.Flops, c.BaselineFlops,
        };
        w.WriteStartObject();
        for (int i = 0; i < values.Length; i++) w.WriteNumber(CountNames[i], values[i]);
        if (c is CompressionTotals t)
        {
            w.WriteNumber("fileBytes", t.FileBytes);
            w.WriteNumber("baselineFileBytes", t.BaselineFileBytes);
        }
        w.WriteEndObject();
    }

    private static CompressionCounts ReadCounts(JsonElement e)
    {
        var c = CountNames.Select(n => e.GetProperty(n).GetInt64()).ToArray();
        return new CompressionCounts
        {
            Weights = c[0], NonZeroWeights = c[1], BaselineWeights = c[2], Parameters = c[3], NonZeroParameters = c[4], BaselineParameters = c[5],
            Neurons = c[6], BaselineNeurons = c[7], DenseBytes = c[8], BaselineDenseBytes = c[9], StoredBytes = c[10], Flops = c[11], BaselineFlops = c[12],
        };
    }

    private static long OptionalCount(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetInt64() : 0;

    private static void WriteNumber(Utf8JsonWriter w, string name, double? value)
    {
        // Round-trip text, so a result read back is bit-identical to the one written.
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
        else if (value is { } special) w.WriteString(name, special.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        else w.WriteNull(name);
    }

    private static double? ReadNumber(JsonElement e, string name)
    {
        var v = e.GetProperty(name);
        return v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => double.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            _ => v.GetDouble(),
        };
    }
}
