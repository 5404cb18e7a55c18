namespace SparsePrune;

/// <summary>What compression bought and cost: totals, per-layer rows and the metric before and now.</summary>
public sealed class CompressionReport : CompressionTotals
{
    public CompressionReport() { }

    /// <summary>A report with the given totals (a sweep result's, read back without its model).</summary>
    internal CompressionReport(CompressionTotals totals) : base(totals) { }

    private CompressionReport(CompressionCounts counts, long fileBytes, long baselineFileBytes) : base(counts, fileBytes, baselineFileBytes) { }

    public string Model { get; init; } = "";
    public string? Dataset { get; init; }
    public IReadOnlyList<LayerReport> Layers { get; init; } = Array.Empty<LayerReport>();
    public string? MetricName { get; init; }
    public double? BaselineMetric { get; init; }
    public double? Metric { get; init; }
    /// <summary>Metric now minus baseline (negative accuracy change or positive loss change is a cost).</summary>
    public double? MetricChange => Metric is { } m && BaselineMetric is { } b ? m - b : null;
    public long FlopsReduction => BaselineFlops - Flops;
    public double Speedup => Flops == 0 ? 0 : (double)BaselineFlops / Flops;

    /// <summary>Builds the report from the model's tensors and baseline; evaluates <paramref name="data"/> when given.</summary>
    public static CompressionReport Create(Mlp model, Dataset? data) => Create(model, data, withFile: true);

    /// <param name="withFile">
    /// Write the model's file to measure FileBytes (false leaves it 0: for the layer rows alone,
    /// which have no file, since writing a large model's file takes seconds).
    /// </param>
    internal static CompressionReport Create(Mlp model, Dataset? data, bool withFile)
    {
        var state = model.State;
        var baseline = model.Baseline;
        var rows = CompressionCounts.OfLayers(model, SpmlpFormat.LayerWeightBytes(model)).Select((counts, i) => new LayerReport(counts)
        {
            Layer = i, InFeatures = state[i].InFeatures, OutFeatures = state[i].OutFeatures, Stored = state[i].Stored, Bits = state[i].Quantization?.Bits,
        }).ToList();
        var metric = data is null ? null : Evaluator.Evaluate(model, data);
        // Through the writer itself, so FileBytes is the exported file's length exactly.
        return new CompressionReport(Total(rows), withFile ? SpmlpFormat.FileBytes(model) ?? 0 : 0, SpmlpFormat.BaselineFileBytes(model))
        {
            Model = model.Name,
            Dataset = data?.Name,
            Layers = rows,
            MetricName = metric?.Name ?? baseline?.MetricName,
            BaselineMetric = baseline is null ? metric?.Value : baseline.Metric,
            Metric = metric?.Value,
        };
    }
}
