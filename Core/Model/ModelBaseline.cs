using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>The model as it was before its first sparsify, prune or quantize step.</summary>
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
    /// <summary>
    /// The length of the dense float32 .spmlp file of the model at its baseline (what Export-Mlp
    /// would have written then): the reference of the compression report's CompressionRatio.
    /// Null in baselines taken before it was recorded (files of earlier releases); the report
    /// then counts the dense file of <see cref="Widths"/> (SpmlpFormat.BaselineFileBytes).
    /// Not written when null, so that such a file's metadata stays as it was.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? FileBytes { get; init; }
    public override string ToString() => $"[{string.Join(",", Widths)}] {Weights} weights" + (Metric is null ? "" : $", {MetricName} {Metric:0.####}");
}
