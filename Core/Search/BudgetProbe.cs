namespace SparsePrune;

/// <summary>
/// One try of the budget search: <see cref="Cost"/> is the drop (or relative rise) measured on the
/// validation split, <see cref="Bound"/> its one-sided upper confidence bound; a try is within
/// budget when the bound is.
/// </summary>
public sealed record BudgetProbe(double Ratio, double Metric, double Cost, bool WithinBudget)
{
    /// <summary>The target of each layer, when the search allocated per layer.</summary>
    public double[]? LayerRatios { get; init; }
    /// <summary>The upper bound on the cost at the search's confidence (Cost when the confidence is 0.5).</summary>
    public double Bound { get; init; }
    /// <summary>Bound − Cost: the margin the validation split's noise asks for.</summary>
    public double Width => Bound - Cost;
    /// <summary>Accuracy: validation rows the reference classifies right and this try wrong.</summary>
    public int? Lost { get; init; }
    /// <summary>Accuracy: validation rows this try classifies right and the reference wrong.</summary>
    public int? Gained { get; init; }
}
