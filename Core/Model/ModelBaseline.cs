namespace SparsePrune;

/// <summary>The model as it was before its first sparsify or prune step.</summary>
public sealed class ModelBaseline
{
    public DateTime Time { get; init; }
    public int[] Widths { get; init; } = Array.Empty<int>();
    /// <summary>Dense weight count of each layer (out × in).</summary>
    public long[] LayerWeights { get; init; } = Array.Empty<long>();
    /// <summary>Output neurons of each layer.</summary>
    public int[] LayerNeurons { get; init; } = Array.Empty<int>();
    public long Weights => LayerWeights.Sum();
    public long Parameters => LayerWeights.Sum() + LayerNeurons.Sum();
    public long HiddenNeurons => LayerNeurons.Take(Math.Max(0, LayerNeurons.Length - 1)).Sum(n => (long)n);
    public string? MetricName { get; init; }
    public double? Metric { get; init; }
    public string? DatasetName { get; init; }
    public override string ToString() => $"[{string.Join(",", Widths)}] {Weights} weights" + (Metric is null ? "" : $", {MetricName} {Metric:0.####}");
}
