using System.Globalization;

namespace SparsePrune;

/// <summary>
/// The one accuracy-or-loss budget rule Invoke-Pruning's search and Compress-Mlp share: exactly
/// one of the two limits, in range, and the one that fits the model's task.
/// </summary>
internal static class BudgetLimit
{
    public static void Check(Mlp model, double? maxAccuracyDrop, double? maxLossIncrease)
    {
        if ((maxAccuracyDrop is null) == (maxLossIncrease is null))
            throw SparsePruneException.Argument("BudgetRequired", "Give one budget: -MaxAccuracyDrop (classification) or -MaxLossIncrease (regression).");
        if (maxAccuracyDrop is { } d && !(d >= 0 && d < 1))
            throw SparsePruneException.Argument("InvalidBudget", $"-MaxAccuracyDrop is a fraction of accuracy (0.01 = one point), at least 0 and below 1; got {d.ToString(CultureInfo.InvariantCulture)}.");
        if (maxLossIncrease is { } li && !(li >= 0 && !double.IsInfinity(li)))
            throw SparsePruneException.Argument("InvalidBudget", $"-MaxLossIncrease is a relative rise (0.1 = 10 %), 0 or more; got {li.ToString(CultureInfo.InvariantCulture)}.");
        if (maxAccuracyDrop is not null && model.Task != TaskKind.Classification)
            throw SparsePruneException.Argument("BudgetDoesNotFit", $"Model '{model.Name}' is a regression: give -MaxLossIncrease instead of -MaxAccuracyDrop.");
        if (maxLossIncrease is not null && model.Task != TaskKind.Regression)
            throw SparsePruneException.Argument("BudgetDoesNotFit", $"Model '{model.Name}' is a classifier: give -MaxAccuracyDrop instead of -MaxLossIncrease.");
    }
}
