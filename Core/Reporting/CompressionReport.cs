namespace SparsePrune;

/// <summary>
/// The counts and ratios of one layer or of the whole model (see DESIGN.md, Formulas):
/// Sparsity = (Weights − NonZeroWeights) / Weights; PruningRatio = PrunedWeights / BaselineWeights;
/// OverallSparsity = 1 − NonZeroWeights / BaselineWeights; CompressionRatio = baseline DenseBytes / StoredBytes.
/// </summary>
public class CompressionCounts
{
    /// <summary>Weights present now (deleted connections and removed neurons' weights are gone; masked ones count).</summary>
    public long Weights { get; init; }
    public long NonZeroWeights { get; init; }
    public double Sparsity => Weights == 0 ? 0 : (double)(Weights - NonZeroWeights) / Weights;
    public long BaselineWeights { get; init; }
    public long PrunedWeights => BaselineWeights - Weights;
    public double PruningRatio => BaselineWeights == 0 ? 0 : (double)PrunedWeights / BaselineWeights;
    public double OverallSparsity => BaselineWeights == 0 ? 0 : 1.0 - (double)NonZeroWeights / BaselineWeights;
    /// <summary>Weights and biases present now.</summary>
    public long Parameters { get; init; }
    public long NonZeroParameters { get; init; }
    public long BaselineParameters { get; init; }
    public double ParameterSparsity => Parameters == 0 ? 0 : (double)(Parameters - NonZeroParameters) / Parameters;
    /// <summary>Output neurons now (for the total: hidden and output neurons).</summary>
    public long Neurons { get; init; }
    public long BaselineNeurons { get; init; }
    /// <summary>float32 bytes of the current shapes stored dense (weights and biases).</summary>
    public long DenseBytes { get; init; }
    public long BaselineDenseBytes { get; init; }
    /// <summary>
    /// The bytes a model file (.spmlp, written by Export-Mlp) spends on the layers' live weights
    /// and biases, exactly as <see cref="ModelSerializer.LayerWeightBytes(Mlp)"/> counts them: a dense
    /// layer 4 bytes per weight and bias; a sparse (pruned) layer 4 bytes per present weight,
    /// its relative position codes (a few bits per present weight) and 4 bytes per bias. Masks
    /// and the values behind them are not counted (a mask is reversible and saves nothing), nor
    /// are fixed per-layer fields, metadata, header and checksum.
    /// </summary>
    public long StoredBytes { get; init; }
    public double CompressionRatio => StoredBytes == 0 ? 0 : (double)BaselineDenseBytes / StoredBytes;
    /// <summary>Floating-point operations of one forward pass of one row: 2 per multiply-add (dense layers all of them, sparse layers present weights only) plus 1 per bias.</summary>
    public long Flops { get; init; }
    public long BaselineFlops { get; init; }
}

/// <summary>One layer's row of a <see cref="CompressionReport"/>.</summary>
public sealed class LayerReport : CompressionCounts
{
    public int Layer { get; init; }
    public int InFeatures { get; init; }
    public int OutFeatures { get; init; }
    public LayerStorage Stored { get; init; }
}

/// <summary>What compression bought and cost: totals, per-layer rows and the metric before and now.</summary>
public sealed class CompressionReport : CompressionCounts
{
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
        for (int i = 0; i < state.Count; i++)
        {
            var l = state[i];
            long present = l.PresentWeights, nonZero = l.NonZeroWeights;
            long baseWeights = baseline?.LayerWeights[i] ?? l.DenseWeights;
            int baseNeurons = baseline?.LayerNeurons[i] ?? l.OutFeatures;
            long dense = 4 * (l.DenseWeights + l.OutFeatures);
            long stored = ModelSerializer.LayerWeightBytes(l);
            rows.Add(new LayerReport
            {
                Layer = i, InFeatures = l.InFeatures, OutFeatures = l.OutFeatures, Stored = l.Stored,
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
