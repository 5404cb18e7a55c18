namespace SparsePrune;

/// <summary>What a validation split says about one try of a budget: the estimated cost and its one-sided bound.</summary>
/// <param name="Rows">Validation rows both models were scored on.</param>
/// <param name="Estimate">The mean per-row cost: the drop in accuracy, or the relative rise of the loss.</param>
/// <param name="Width">How far above the estimate the bound lies: z standard errors of the paired differences.</param>
public sealed record PairedEvidence(int Rows, double Estimate, double Width)
{
    /// <summary>The one-sided upper confidence bound on the cost: Estimate + Width.</summary>
    public double Bound => Estimate + Width;
    /// <summary>Accuracy: rows the reference classifies right and the pruned model wrong.</summary>
    public int? Lost { get; init; }
    /// <summary>Accuracy: rows the pruned model classifies right and the reference wrong.</summary>
    public int? Gained { get; init; }
}
