using System.Globalization;

namespace SparsePrune;

/// <summary>One row of Measure-LayerSensitivity: one layer pruned alone to one level, and what it cost.</summary>
public sealed class LayerSensitivity
{
    public string Model { get; init; } = "";
    public int Layer { get; init; }
    public string Shape { get; init; } = "";
    public PruneStructure Structure { get; init; }
    public PruneCriterion Criterion { get; init; }
    /// <summary>The level: the fraction of the layer's baseline weights (Connection) or neurons (Neuron) deleted.</summary>
    public double Ratio { get; init; }
    /// <summary>Weights (Connection) or neurons (Neuron) deleted in this layer at this level.</summary>
    public long Deleted { get; init; }
    public string MetricName { get; init; } = "";
    /// <summary>The model's validation metric as it is.</summary>
    public double BaselineMetric { get; init; }
    public double Metric { get; init; }
    /// <summary>What the level costs: accuracy lost, or loss gained (positive is worse).</summary>
    public double Drop { get; init; }
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"layer {Layer} at {Ratio:0.###}: {MetricName} {Metric:0.####} (drop {Drop:0.####})");
}
