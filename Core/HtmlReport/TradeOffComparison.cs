namespace SparsePrune;

/// <summary>
/// The comparison of several models, computed once: which have a metric, whether higher is
/// better, and per axis (compression ratio, overall sparsity) which models are Pareto-best. The
/// trade-off charts draw these flags and the models table lists them, so the two cannot disagree:
/// they once did, when the table ranked by compression ratio and the sparsity chart by sparsity,
/// and a model marked on one chart was missing from the table.
/// </summary>
internal sealed class TradeOffComparison
{
    /// <summary>
    /// One axis the metric is traded against: the models drawn on it (those measured whose value
    /// on it is known), and the ones that are Pareto-best on it.
    /// </summary>
    public sealed record Axis(string Label, Func<CompressionReport, double> X, bool LogX, IReadOnlyList<ReportSubject> Points, IReadOnlySet<ReportSubject> Best);

    /// <summary>The models with a metric, in the order given: the points of the charts.</summary>
    public IReadOnlyList<ReportSubject> Measured { get; }
    public string MetricName { get; }
    /// <summary>Accuracy: higher is better; Loss: lower is better.</summary>
    public bool HigherIsBetter { get; }
    public Axis CompressionRatio { get; }
    public Axis OverallSparsity { get; }
    public IReadOnlyList<Axis> Axes => new[] { CompressionRatio, OverallSparsity };

    public TradeOffComparison(IReadOnlyList<ReportSubject> subjects)
    {
        Measured = subjects.Where(s => s.Report.Metric is not null).ToList();
        MetricName = Measured.Select(s => s.Report.MetricName).FirstOrDefault(n => n is not null) ?? "metric";
        HigherIsBetter = MetricName != "Loss";
        // The file's ratio; a sweep result file of an earlier release does not know it (FileBytes 0), and is left off that chart.
        CompressionRatio = Rank("compression ratio (file)", r => r.CompressionRatio, logX: true, known: r => r.FileBytes > 0);
        OverallSparsity = Rank("overall sparsity", r => r.OverallSparsity, logX: false, known: _ => true);
    }

    /// <summary>
    /// Pareto-best on the raw values (a log scale only changes where a point is drawn, and ranking
    /// on rounded logarithms could make a tie of two different ratios).
    /// </summary>
    private Axis Rank(string label, Func<CompressionReport, double> x, bool logX, Func<CompressionReport, bool> known)
    {
        var points = Measured.Where(s => known(s.Report)).ToList();
        var front = ParetoFront.Of(points.Select(s => (x(s.Report), HigherIsBetter ? s.Report.Metric!.Value : -s.Report.Metric!.Value)).ToList());
        var best = points.Where((_, i) => front[i]).ToHashSet();
        return new Axis(label, x, logX, points, best);
    }
}
