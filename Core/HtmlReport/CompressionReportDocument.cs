using System.Globalization;
using System.Text;

namespace SparsePrune;

/// <summary>
/// The self-contained HTML compression report: one file with its style, charts (inline SVG
/// drawn by ScottPlot) and tables, readable offline, mailed, and with scripts disabled.
/// One model gives its headline, layers, weight histograms and history; several add a
/// comparison (the metric against compression ratio and sparsity, Pareto-best marked);
/// Measure-LayerSensitivity rows add their curves.
/// </summary>
public sealed partial class CompressionReportDocument
{
    public string Title { get; init; } = "SparsePrune compression report";
    public IReadOnlyList<ReportSubject> Subjects { get; init; } = Array.Empty<ReportSubject>();
    public IReadOnlyList<LayerSensitivity> Sensitivity { get; init; } = Array.Empty<LayerSensitivity>();
    public DateTime Created { get; init; } = DateTime.UtcNow;

    /// <summary>Charts drawn so far and how many there are in all, for a progress bar.</summary>
    public int ChartCount => Subjects.Sum(s => 1 + s.Histograms.Count + (s.History.Count > 0 ? 1 : 0))
        + (Subjects.Count > 1 ? 2 : 0) + Sensitivity.Select(r => (r.Model, r.Structure, r.Criterion)).Distinct().Count();

    /// <summary>The page; <paramref name="chartDrawn"/> is called after each chart.</summary>
    public string Render(Action? chartDrawn = null)
    {
        if (Subjects.Count == 0 && Sensitivity.Count == 0) throw new InvalidOperationException("A report needs at least one model, report or sensitivity row.");
        string Chart(string svg) { chartDrawn?.Invoke(); return svg; }
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\" />")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />")
            .Append("<meta name=\"generator\" content=\"SparsePrune ").Append(Html.Escape(Version)).Append("\" />")
            .Append("<title>").Append(Html.Escape(Title)).Append("</title><style>").Append(Html.Style).Append("</style></head>\n<body>");
        html.Append("<h1>").Append(Html.Escape(Title)).Append("</h1><p class=\"meta\">")
            .Append(Html.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{(Subjects.Count == 0 ? "" : $"{Subjects.Count} model{(Subjects.Count == 1 ? "" : "s")}; ")}written {Created:yyyy-MM-dd HH:mm} UTC by SparsePrune {Version}.")))
            .Append("</p>\n");
        if (Subjects.Count > 1) AppendComparison(html, Chart);
        foreach (var subject in Subjects) AppendSubject(html, subject, open: Subjects.Count == 1, Chart);
        if (Sensitivity.Count > 0) AppendSensitivity(html, Chart);
        html.Append("<script>").Append(Html.SortScript).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private static string Version => typeof(CompressionReportDocument).Assembly.GetName().Version?.ToString(3) ?? "";

    private void AppendComparison(StringBuilder html, Func<string, string> chart)
    {
        html.Append("<section><h2>Comparison</h2>");
        // One computation of the Pareto-best models for the charts and the table alike.
        var comparison = new TradeOffComparison(Subjects);
        if (comparison.Measured.Count == 0)
            html.Append("<p class=\"none\">No model has a metric, so there is no trade-off to draw: give -Dataset.</p>");
        else
        {
            html.Append("<div class=\"charts\">");
            foreach (var axis in comparison.Axes) html.Append(chart(TradeOffChart.Render(comparison, axis)));
            html.Append("</div>");
        }
        Html.Table(html, "Models (Pareto-best by an axis: no other model is at least as good on that axis and on the metric, and better on one of them; each chart marks the same models)",
            new[]
            {
                "model", "overall sparsity", "pruning ratio (deleted)", "sparsity of the weights left", "weights", "non-zero", "file bytes",
                "compression ratio (file)", "stored bytes (weights)", "weight compression ratio", "speedup", "metric", "change",
                "Pareto-best by compression ratio (file)", "Pareto-best by overall sparsity",
            },
            Subjects.Select(s => (IReadOnlyList<Html.Cell>)new Html.Cell[]
            {
                s.Name, Html.Num(s.Report.OverallSparsity, Html.Percent(s.Report.OverallSparsity)),
                Html.Num(s.Report.PruningRatio, Html.Percent(s.Report.PruningRatio)), Html.Num(s.Report.Sparsity, Html.Percent(s.Report.Sparsity)),
                Html.Num(s.Report.Weights), Html.Num(s.Report.NonZeroWeights),
                FileCell(s.Report), RatioCell(s.Report),
                Html.Num(s.Report.StoredBytes), Html.Num(s.Report.WeightCompressionRatio, Html.Ratio(s.Report.WeightCompressionRatio)),
                Html.Num(s.Report.Speedup, Html.Ratio(s.Report.Speedup)),
                s.Report.Metric is { } m ? Html.Num(m, $"{s.Report.MetricName} {Html.Number(m)}") : "no metric",
                s.Report.MetricChange is { } c ? Html.Num(c, Html.Number(c, "+0.####;-0.####;0")) : "",
                comparison.CompressionRatio.Best.Contains(s) ? "yes" : "",
                comparison.OverallSparsity.Best.Contains(s) ? "yes" : "",
            }));
        html.Append("</section>\n");
    }

    /// <summary>The file's bytes, or why there are none (a sweep result file of an earlier release).</summary>
    private static Html.Cell FileCell(CompressionReport r) => r.FileBytes > 0 ? Html.Num(r.FileBytes) : "not recorded";

    private static Html.Cell RatioCell(CompressionReport r) => r.FileBytes > 0 ? Html.Num(r.CompressionRatio, Html.Ratio(r.CompressionRatio)) : "not recorded";

    private void AppendSensitivity(StringBuilder html, Func<string, string> chart)
    {
        html.Append("<section><h2>Layer sensitivity</h2><div class=\"charts\">");
        foreach (var group in Sensitivity.GroupBy(r => (r.Model, r.Structure, r.Criterion)))
            html.Append(chart(SensitivityChart.Render(group.ToList())));
        html.Append("</div>");
        Html.Table(html, "Measure-LayerSensitivity rows",
            new[] { "model", "layer", "shape", "structure", "criterion", "pruned", "deleted", "metric", "drop" },
            Sensitivity.Select(r => (IReadOnlyList<Html.Cell>)new Html.Cell[]
            {
                r.Model, Html.Num(r.Layer), r.Shape, r.Structure.ToString(), r.Criterion.ToString(),
                Html.Num(r.Ratio, Html.Percent(r.Ratio)), Html.Num(r.Deleted), Html.Num(r.Metric, $"{r.MetricName} {Html.Number(r.Metric)}"), Html.Num(r.Drop, Html.Number(r.Drop)),
            }));
        html.Append("</section>\n");
    }
}
