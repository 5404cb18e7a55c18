using ScottPlot;

namespace SparsePrune;

/// <summary>The history as a timeline: non-zero weights after each step, and the metric where one was measured.</summary>
internal static class HistoryChart
{
    public static string Render(string model, IReadOnlyList<HistoryRecord> history)
    {
        var plot = SvgChart.New($"History: {model}", "step", "non-zero weights");
        var steps = history.Select(h => (double)h.Step).ToArray();
        var weights = plot.Add.Scatter(steps, history.Select(h => (double)h.NonZeroAfter).ToArray(), SvgChart.Primary);
        weights.LegendText = "non-zero weights";
        weights.LineWidth = 2;
        weights.MarkerSize = 7;
        var measured = history.Where(h => h.Metric is not null).ToList();
        if (measured.Count > 0)
        {
            var metric = plot.Add.Scatter(measured.Select(h => (double)h.Step).ToArray(), measured.Select(h => h.Metric!.Value).ToArray(), SvgChart.Secondary);
            metric.LegendText = measured[0].MetricName ?? "metric";
            metric.Axes.YAxis = plot.Axes.Right;
            metric.LineWidth = 2;
            metric.MarkerSize = 7;
            metric.MarkerShape = MarkerShape.FilledSquare;
            plot.Axes.Right.Label.Text = measured[0].MetricName ?? "metric";
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(steps, history.Select(h => $"{h.Step} {h.Operation}").ToArray());
        plot.ShowLegend(Alignment.LowerLeft);
        return SvgChart.Render(plot, $"Timeline of model {model}: non-zero weights and metric after each step.");
    }
}
