namespace SparsePrune;

/// <summary>One try of the budget search.</summary>
public sealed record BudgetProbe(double Ratio, double Metric, double Cost, bool WithinBudget)
{
    /// <summary>The target of each layer, when the search allocated per layer.</summary>
    public double[]? LayerRatios { get; init; }
}
