namespace SparsePrune;

/// <summary>An accuracy (or loss) budget for Invoke-Pruning: exactly one of the two limits.</summary>
public sealed record BudgetOptions
{
    /// <summary>Largest accepted drop in validation accuracy, as a fraction (0.01 = one point).</summary>
    public double? MaxAccuracyDrop { get; init; }
    /// <summary>Largest accepted relative rise of the validation loss (0.1 = 10 %).</summary>
    public double? MaxLossIncrease { get; init; }
    /// <summary>
    /// Share of the training split held out to judge each try; never the test split. Null: 0.5
    /// when the schedule does not train (the held-out rows then only judge, and more of them let
    /// the bound resolve a finer budget at no cost), 0.1 when it does (they are kept from its
    /// training).
    /// </summary>
    public double? ValidationFraction { get; init; }
    /// <summary>
    /// One-sided confidence of the paired bound a try must keep within the budget (PairedBound):
    /// 0.95 accepts a try when the drop is at most the budget with 95 % confidence, given the
    /// validation rows; 0.5 judges the drop measured on them alone, with no margin for their noise.
    /// </summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>Tries after the first (each halves the interval the answer is in).</summary>
    public int Probes { get; init; } = 6;
    public int? Seed { get; init; }

    /// <summary>The fraction of the training split a search with <paramref name="schedule"/> holds out.</summary>
    public double ValidationFractionFor(ScheduleOptions schedule) => ValidationFraction ?? (BudgetSearch.Trains(schedule) ? 0.1 : 0.5);
}
