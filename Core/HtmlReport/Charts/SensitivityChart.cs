using ScottPlot;

namespace SparsePrune;

/// <summary>Measure-LayerSensitivity's curves: per layer, the metric at each pruning level.</summary>
internal static class SensitivityChart
{
    public static string Render(IReadOnlyList<LayerSensitivity> rows)
    {
        var first = rows[0];
        var plot = SvgChart.New($"Layer sensitivity: {first.Model} ({first.Structure}, {first.Criterion})", "fraction of the layer pruned", first.MetricName);
        int k = 0;
        foreach (var layer in rows.GroupBy(r => r.Layer).OrderBy(g => g.Key))
        {
            var points = layer.OrderBy(r => r.Ratio).ToList();
            var line = plot.Add.Scatter(points.Select(r => r.Ratio).ToArray(), points.Select(r => r.Metric).ToArray(), SvgChart.SeriesColor(k++));
            line.LegendText = $"layer {layer.Key} ({points[0].Shape})";
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        var baseline = plot.Add.HorizontalLine(first.BaselineMetric, 1, Colors.Gray);
        baseline.LinePattern = LinePattern.Dashed;
        baseline.LegendText = "unpruned";
        plot.ShowLegend(Alignment.LowerLeft);
        return SvgChart.Render(plot, $"Sensitivity curves of model {first.Model}: the metric per layer at each pruning level.");
    }
}
