using System.Globalization;
using ScottPlot;

namespace SparsePrune;

/// <summary>A layer's histogram of present weight magnitudes, with a quantized layer's shared values marked.</summary>
internal static class WeightHistogramChart
{
    public static string Render(string model, WeightHistogram h)
    {
        var plot = SvgChart.New($"Layer {h.Layer}: non-zero weights by magnitude", string.Create(CultureInfo.InvariantCulture, $"|w| ({h.Zeros:N0} zeros not shown)"), "weights");
        var bars = new List<Bar>();
        for (int k = 0; k < h.Counts.Count; k++)
            bars.Add(new Bar
            {
                Position = (h.Edges[k] + h.Edges[k + 1]) / 2, Value = h.Counts[k], Size = h.Edges[k + 1] - h.Edges[k],
                FillColor = SvgChart.Primary, LineWidth = 0,
            });
        plot.Add.Bars(bars);
        if (h.SharedValues is { } shared)
        {
            foreach (var v in shared.Select(Math.Abs).Distinct())
            {
                var line = plot.Add.VerticalLine(v, 1.5f, SvgChart.Deleted);
                line.LinePattern = LinePattern.Dashed;
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"shared values ({shared.Count})", LineColor = SvgChart.Deleted, LineWidth = 1.5f });
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Axes.Margins(bottom: 0);
        return SvgChart.Render(plot, $"Histogram of the present weights' magnitudes in layer {h.Layer} of model {model}.", SvgChart.Width * 3 / 4, SvgChart.Height * 3 / 4);
    }
}
