namespace SparsePrune;

/// <summary>An accuracy (or loss) budget for Invoke-Pruning: exactly one of the two limits.</summary>
public sealed record BudgetOptions
{
    /// <summary>Largest accepted drop in validation accuracy, as a fraction (0.01 = one point).</summary>
    public double? MaxAccuracyDrop { get; init; }
    /// <summary>Largest accepted relative rise of the validation loss (0.1 = 10 %).</summary>
    public double? MaxLossIncrease { get; init; }
    /// <summary>Share of the training split held out to judge each try; never the test split.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>
    /// One-sided confidence of the paired bound a try must keep within the budget (PairedBound):
    /// 0.95 accepts a try when the drop is at most the budget with 95 % confidence, given the
    /// validation rows; 0.5 judges the drop measured on them alone, with no margin for their noise.
    /// </summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>Tries after the first (each halves the interval the answer is in).</summary>
    public int Probes { get; init; } = 6;
    public int? Seed { get; init; }
}
