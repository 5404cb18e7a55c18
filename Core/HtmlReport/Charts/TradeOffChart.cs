using ScottPlot;

namespace SparsePrune;

/// <summary>
/// Several models on one plane: the metric against what was bought (compression ratio or
/// sparsity), one point per model, the Pareto-best ones drawn large and joined. Which are
/// Pareto-best comes from <see cref="TradeOffComparison"/>, the computation the models table lists.
/// </summary>
internal static class TradeOffChart
{
    public static string Render(TradeOffComparison comparison, TradeOffComparison.Axis axis)
    {
        var metricName = comparison.MetricName;
        bool logX = axis.LogX;
        var plot = SvgChart.New($"{metricName} against {axis.Label}", logX ? $"{axis.Label} (log scale)" : axis.Label, metricName);
        var measured = axis.Points;
        double Px(CompressionReport r) => logX ? Math.Log10(Math.Max(axis.X(r), 1e-12)) : axis.X(r);
        var points = measured.Select(s => (X: Px(s.Report), Y: s.Report.Metric!.Value)).ToList();
        var others = Enumerable.Range(0, points.Count).Where(i => !axis.Best.Contains(measured[i])).ToList();
        var best = Enumerable.Range(0, points.Count).Where(i => axis.Best.Contains(measured[i])).OrderBy(i => points[i].X).ToList();
        if (others.Count > 0)
        {
            var dots = plot.Add.ScatterPoints(others.Select(i => points[i].X).ToArray(), others.Select(i => points[i].Y).ToArray(), SvgChart.Primary);
            dots.MarkerSize = 9;
            dots.LegendText = "model";
        }
        if (best.Count > 0)
        {
            var line = plot.Add.Scatter(best.Select(i => points[i].X).ToArray(), best.Select(i => points[i].Y).ToArray(), SvgChart.Deleted);
            line.MarkerSize = 13;
            line.MarkerShape = MarkerShape.FilledDiamond;
            line.LineWidth = 1.5f;
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = "Pareto-best";
        }
        var labels = Enumerable.Range(0, points.Count).Select(i => PointLabels.Add(plot, measured[i].Name, points[i].X, points[i].Y)).ToList();
        if (logX && points.Count > 0)
        {
            // Decades and their 2 and 5 steps within the data's range: a log axis needs labels a reader knows.
            double lo = points.Min(p => p.X), hi = points.Max(p => p.X);
            var ticks = Enumerable.Range((int)Math.Floor(lo) - 1, (int)(Math.Ceiling(hi) - Math.Floor(lo)) + 2)
                .SelectMany(d => new[] { 1.0, 2.0, 5.0 }.Select(m => d + Math.Log10(m)))
                .Where(t => t >= lo - 0.15 && t <= hi + 0.15).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, ticks.Select(t => $"{Math.Pow(10, t):G3}×").ToArray());
        }
        // Room on the right for a short name beside the last point; longer ones go left or are shortened (PointLabels).
        plot.Axes.Margins(left: 0.05, right: 0.18, bottom: 0.1, top: 0.1);
        plot.ShowLegend(comparison.HigherIsBetter ? Alignment.LowerLeft : Alignment.UpperLeft);
        var shortened = PointLabels.Fit(plot, labels, SvgChart.Width, SvgChart.Height);
        // The description names the Pareto-best models: what the diamonds show, for a screen reader.
        var names = best.Select(i => measured[i].Name).ToList();
        return SvgChart.Render(plot,
            $"{metricName} against {axis.Label}, one point per model; Pareto-best models marked with diamonds: {(names.Count == 0 ? "none" : string.Join(", ", names))}.",
            tooltips: shortened);
    }
}
