namespace SparsePrune;

/// <summary>
/// One model in an HTML compression report: its report, and when the model itself was given,
/// its history and per-layer weight histograms (a report alone carries neither).
/// </summary>
public sealed class ReportSubject
{
    public string Name { get; init; } = "";
    public CompressionReport Report { get; init; } = null!;
    public IReadOnlyList<HistoryRecord> History { get; init; } = Array.Empty<HistoryRecord>();
    public IReadOnlyList<WeightHistogram> Histograms { get; init; } = Array.Empty<WeightHistogram>();

    /// <summary>The model's report (evaluated on <paramref name="data"/> when given), history and histograms.</summary>
    public static ReportSubject FromModel(Mlp model, Dataset? data) => new()
    {
        Name = model.Name,
        Report = CompressionReport.Create(model, data),
        History = model.History.ToList(),
        Histograms = model.State.Select((layer, i) => WeightHistogram.Of(layer, i)).ToList(),
    };

    public static ReportSubject FromReport(CompressionReport report) => new() { Name = report.Model, Report = report };

    /// <summary>
    /// A Compress-Mlp candidate (-PassThru), named after its number and settings; its metric is the
    /// validation split's, against the search's reference, since the search never sees the test split.
    /// </summary>
    public static ReportSubject FromCandidate(CompressionCandidate candidate)
    {
        var name = $"candidate {candidate.Candidate}{(candidate.Chosen ? " (chosen)" : "")}: {candidate.Settings}";
        var report = candidate.Totals is { } totals
            ? new CompressionReport(totals)
            {
                Model = name, MetricName = candidate.MetricName, BaselineMetric = candidate.ReferenceMetric, Metric = candidate.ValidationMetric,
                Dataset = "validation split",
            }
            : throw SparsePruneException.Argument("CandidateWithoutCounts",
                $"Candidate {candidate.Candidate} carries no counts (it was read back from text, e.g. Import-Csv); pipe the objects Compress-Mlp -PassThru wrote.");
        return new() { Name = name, Report = report };
    }

    /// <summary>
    /// A sweep point, named after its settings: its result's report, and the history and
    /// histograms of its model when the sweep passed it through (-PassThru).
    /// </summary>
    public static ReportSubject FromSweep(SweepResult result)
    {
        var report = result.ToReport();
        return new()
        {
            Name = report.Model,
            Report = report,
            History = result.Model?.History.ToList() ?? (IReadOnlyList<HistoryRecord>)Array.Empty<HistoryRecord>(),
            Histograms = result.Model?.State.Select((layer, i) => WeightHistogram.Of(layer, i)).ToList() ?? (IReadOnlyList<WeightHistogram>)Array.Empty<WeightHistogram>(),
        };
    }
}
