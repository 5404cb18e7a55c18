using System.Diagnostics;

namespace SparsePrune;

/// <summary>What Measure-Mlp reports.</summary>
public sealed class Measurement
{
    public string Model { get; init; } = "";
    public string Dataset { get; init; } = "";
    public string MetricName { get; init; } = "";
    public double? Accuracy { get; init; }
    /// <summary>Mean loss on the evaluation split (cross-entropy or MSE).</summary>
    public double Loss { get; init; }
    /// <summary>Median time of one forward pass of a single row, in milliseconds.</summary>
    public double LatencyMs { get; init; }
    /// <summary>Rows per second in batches of <see cref="BatchSize"/>.</summary>
    public double Throughput { get; init; }
    public int BatchSize { get; init; }
    public int Samples { get; init; }
    /// <summary>Zeros among the weights present now.</summary>
    public double Sparsity { get; init; }
    /// <summary>Zero or deleted share of the model's original weights (see Mlp.OverallSparsity).</summary>
    public double OverallSparsity { get; init; }
    public long Parameters { get; init; }
}
