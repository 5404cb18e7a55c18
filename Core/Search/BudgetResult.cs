namespace SparsePrune;

/// <summary>What the budget search tried and chose.</summary>
public sealed class BudgetResult
{
    /// <summary>The fraction of the scope's baseline deleted at the end.</summary>
    public double ChosenRatio { get; init; }
    /// <summary>Per-layer targets, when the search allocated per layer (-Scope Layer).</summary>
    public double[]? ChosenLayerRatios { get; init; }
    public string MetricName { get; init; } = "";
    public double BaselineMetric { get; init; }
    public double? Metric { get; init; }
    public IReadOnlyList<BudgetProbe> Probes { get; init; } = Array.Empty<BudgetProbe>();
    public ScheduleResult? Schedule { get; init; }
}
