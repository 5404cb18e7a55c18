using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>One operation on a model: what, when, with which parameters, and its effect.</summary>
public sealed record HistoryRecord
{
    [System.Text.Json.Serialization.JsonInclude]
    public int Step { get; internal set; }
    public string Operation { get; init; } = "";
    public DateTime Time { get; init; } = DateTime.UtcNow;
    public string Parameters { get; init; } = "";
    public long WeightsBefore { get; init; }
    public long NonZeroBefore { get; init; }
    public long WeightsAfter { get; init; }
    public long NonZeroAfter { get; init; }
    public string? MetricName { get; init; }
    public double? Metric { get; init; }
    public string? Note { get; init; }
    public override string ToString() => $"{Step}. {Operation} {Parameters}: weights {WeightsBefore}->{WeightsAfter}, non-zero {NonZeroBefore}->{NonZeroAfter}";
}
