namespace SparsePrune;

/// <summary>What compression bought and cost: totals, per-layer rows and the metric before and now.</summary>
public sealed class CompressionReport : CompressionCounts
{
    public CompressionReport() { }

    /// <summary>A report with the given totals (a sweep result's, read back without its model).</summary>
    internal CompressionReport(CompressionCounts counts) : base(counts) { }

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
    public static CompressionReport Create(Mlp model, Dataset? data)
    {
        var state = model.State;
        var baseline = model.Baseline;
        var rows = new List<LayerReport>();
        var storedBytes = SpmlpFormat.LayerWeightBytes(model);
        for (int i = 0; i < state.Count; i++)
        {
            var l = state[i];
            long present = l.PresentWeights, nonZero = l.NonZeroWeights;
            long baseWeights = baseline?.LayerWeights[i] ?? l.DenseWeights;
            int baseNeurons = baseline?.LayerNeurons[i] ?? l.OutFeatures;
            long dense = 4 * (l.DenseWeights + l.OutFeatures);
            long stored = storedBytes[i];
            rows.Add(new LayerReport
            {
                Layer = i, InFeatures = l.InFeatures, OutFeatures = l.OutFeatures, Stored = l.Stored, Bits = l.Quantization?.Bits,
                Weights = present, NonZeroWeights = nonZero, BaselineWeights = baseWeights,
                Parameters = present + l.OutFeatures, NonZeroParameters = nonZero + l.NonZeroBiases,
                BaselineParameters = baseWeights + baseNeurons,
                Neurons = l.OutFeatures, BaselineNeurons = baseNeurons,
                DenseBytes = dense, BaselineDenseBytes = 4 * (baseWeights + baseNeurons), StoredBytes = stored,
                Flops = (l.Stored == LayerStorage.Dense ? 2 * l.DenseWeights : 2 * present) + l.OutFeatures,
                BaselineFlops = 2 * baseWeights + baseNeurons,
            });
        }
        var metric = data is null ? null : Evaluator.Evaluate(model, data);
        return new CompressionReport
        {
            Model = model.Name,
            Dataset = data?.Name,
            Layers = rows,
            Weights = rows.Sum(r => r.Weights), NonZeroWeights = rows.Sum(r => r.NonZeroWeights), BaselineWeights = rows.Sum(r => r.BaselineWeights),
            Parameters = rows.Sum(r => r.Parameters), NonZeroParameters = rows.Sum(r => r.NonZeroParameters), BaselineParameters = rows.Sum(r => r.BaselineParameters),
            Neurons = rows.Sum(r => r.Neurons), BaselineNeurons = rows.Sum(r => r.BaselineNeurons),
            DenseBytes = rows.Sum(r => r.DenseBytes), BaselineDenseBytes = rows.Sum(r => r.BaselineDenseBytes), StoredBytes = rows.Sum(r => r.StoredBytes),
            Flops = rows.Sum(r => r.Flops), BaselineFlops = rows.Sum(r => r.BaselineFlops),
            MetricName = metric?.Name ?? baseline?.MetricName,
            BaselineMetric = baseline is null ? metric?.Value : baseline.Metric,
            Metric = metric?.Value,
        };
    }
}
