namespace SparsePrune;

/// <summary>What the budget search tried and chose, and what its validation split could resolve.</summary>
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
    /// <summary>Rows of the validation split every try was judged on.</summary>
    public int ValidationRows { get; init; }
    /// <summary>The one-sided confidence of the bound each try was judged by (0.5: the measured cost alone).</summary>
    public double Confidence { get; init; }
    /// <summary>
    /// What the split can resolve. Accuracy: the smallest drop it can certify, the bound when one
    /// row is lost and none gained. Loss: the width of the bound at the last try, the one nearest
    /// the budget.
    /// </summary>
    public double Resolution { get; init; }
    /// <summary>Accuracy: the validation rows the budget needs (PairedBound.RowsNeeded); null for a loss budget.</summary>
    public int? RowsNeeded { get; init; }
    /// <summary>Why the split may be too small for the budget, and what to do; empty when it is not.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}
