namespace SparsePrune;

/// <summary>
/// How far a validation split can be trusted to judge a budget: a one-sided upper confidence
/// bound on the mean per-row cost of pruning, the reference and the pruned model scored on the
/// same rows (paired), so that rows both models get right or wrong cost nothing and only the rows
/// where they differ widen the bound.
/// </summary>
/// <remarks>
/// For accuracy the per-row cost is 1 where only the reference is right, −1 where only the pruned
/// model is, else 0: the mean is (lost − gained) / n, McNemar's discordant pairs. For a loss the
/// per-row cost is the pruned model's squared error less the reference's. The bound is the mean
/// plus z standard errors (sample variance, n − 1), z the normal quantile of the confidence:
/// n is hundreds of rows or more wherever the bound can pass a budget at all, so the normal
/// quantile is close enough to Student's and needs no table. Zero discordant rows would give a
/// zero variance and a bound of 0 however few the rows (12 identical rows prove little), so the
/// accuracy variance counts at least one discordant row, as a pseudo-count would.
/// </remarks>
internal static class PairedBound
{
    /// <summary>The smallest and largest confidence a budget may ask for (0.5: the estimate alone, no margin).</summary>
    public const double MinConfidence = 0.5, MaxConfidence = 0.9999;

    /// <summary>Φ(x), the standard normal distribution function.</summary>
    public static double NormalCdf(double x) => MathNet.Numerics.Distributions.Normal.CDF(0, 1, x);

    /// <summary>z with Φ(z) = confidence, for a confidence in [0.5, 0.9999].</summary>
    public static double Z(double confidence)
    {
        if (!(confidence >= MinConfidence && confidence <= MaxConfidence))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "A confidence from 0.5 to 0.9999.");
        return MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, confidence);
    }

    /// <summary>The bound on the drop in accuracy: 1 marks a row a model classifies right.</summary>
    public static PairedEvidence Accuracy(IReadOnlyList<double> reference, IReadOnlyList<double> pruned, double confidence)
    {
        Check(reference, pruned);
        int n = reference.Count, lost = 0, gained = 0;
        for (int i = 0; i < n; i++)
        {
            if (reference[i] > pruned[i]) lost++;
            else if (reference[i] < pruned[i]) gained++;
        }
        return Accuracy(n, lost, gained, confidence);
    }

    /// <summary>The bound on the drop in accuracy from the counts: rows only the reference gets right (lost), only the pruned model (gained).</summary>
    public static PairedEvidence Accuracy(int rows, int lost, int gained, double confidence)
    {
        if (rows < 2 || lost < 0 || gained < 0 || lost + gained > rows)
            throw new ArgumentOutOfRangeException(nameof(rows), "At least two rows, and no more changed rows than rows.");
        double n = rows, mean = (lost - gained) / n;
        // Σd² = lost + gained; the sample variance is (Σd² − n·mean²) / (n − 1), with Σd² at least 1.
        double variance = (Math.Max(lost + gained, 1) - n * mean * mean) / (n - 1);
        double width = Z(confidence) * Math.Sqrt(Math.Max(variance, 0) / n);
        return new PairedEvidence(rows, mean, width) { Lost = lost, Gained = gained };
    }

    /// <summary>
    /// The bound on the relative rise of the mean squared error: per-row squared errors of the
    /// reference and the pruned model, the rise and its width divided by the reference's loss.
    /// </summary>
    public static PairedEvidence Loss(IReadOnlyList<double> reference, IReadOnlyList<double> pruned, double confidence)
    {
        Check(reference, pruned);
        int n = reference.Count;
        double referenceLoss = 0, mean = 0;
        for (int i = 0; i < n; i++) { referenceLoss += reference[i]; mean += pruned[i] - reference[i]; }
        referenceLoss /= n;
        mean /= n;
        double squares = 0;
        for (int i = 0; i < n; i++) { double e = pruned[i] - reference[i] - mean; squares += e * e; }
        double se = Math.Sqrt(squares / (n - 1) / n);
        double width = Z(confidence) * se;
        // A reference without error: any rise is infinitely many times it, and no rise is none.
        if (referenceLoss == 0)
            return new PairedEvidence(n, mean > 0 ? double.PositiveInfinity : 0, width > 0 ? double.PositiveInfinity : 0);
        return new PairedEvidence(n, mean / referenceLoss, width / referenceLoss);
    }

    /// <summary>The bound when one row is lost and none gained: the smallest drop an n-row split can certify.</summary>
    public static double OneRowBound(int rows, double confidence) => Accuracy(rows, 1, 0, confidence).Bound;

    /// <summary>
    /// The validation rows an accuracy budget needs: enough that one row is worth at most half the
    /// budget, and that a drop of half the budget, every changed row a loss, is certified within
    /// it (h + z·√(h(1−h)/(n−1)) ≤ 2h, h half the budget). Fewer, and the search spends the budget
    /// on doubt: it stops short of it, or accepts what the test split will not bear.
    /// </summary>
    public static int RowsNeeded(double maxAccuracyDrop, double confidence)
    {
        if (maxAccuracyDrop <= 0) return int.MaxValue;
        double h = maxAccuracyDrop / 2, z = Z(confidence);
        double rows = Math.Max(1 / h, 1 + z * z * (1 - h) / h);
        // The quotients are exact integers more often than not (1 / 0.005): a rounding error
        // above one must not ask for a row more.
        return rows >= int.MaxValue ? int.MaxValue : (int)Math.Ceiling(rows - 1e-9);
    }

    /// <summary>The smallest accuracy budget that <see cref="RowsNeeded"/> finds an n-row split enough for.</summary>
    public static double SmallestBudget(int rows, double confidence)
    {
        double z = Z(confidence);
        // RowsNeeded's two conditions solved for h: h ≥ 1/n and h ≥ z²/(n − 1 + z²).
        return 2 * Math.Max(1.0 / rows, z * z / (rows - 1 + z * z));
    }

    private static void Check(IReadOnlyList<double> reference, IReadOnlyList<double> pruned)
    {
        if (reference.Count != pruned.Count) throw new ArgumentException("Both models are scored on the same rows.");
        if (reference.Count < 2) throw new ArgumentException("A bound needs at least two rows.");
    }
}
