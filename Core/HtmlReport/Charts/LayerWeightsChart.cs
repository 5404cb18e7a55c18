using ScottPlot;

namespace SparsePrune;

/// <summary>Per layer, a stacked bar of its baseline weights: kept (non-zero), masked or zero, deleted.</summary>
internal static class LayerWeightsChart
{
    public static string Render(CompressionReport report)
    {
        var plot = SvgChart.New($"Weights per layer: {report.Model}", "layer", "weights");
        var bars = new List<Bar>();
        foreach (var l in report.Layers)
        {
            double kept = l.NonZeroWeights, zero = l.Weights - l.NonZeroWeights, deleted = l.BaselineWeights - l.Weights;
            bars.Add(new Bar { Position = l.Layer, ValueBase = 0, Value = kept, FillColor = SvgChart.Kept });
            bars.Add(new Bar { Position = l.Layer, ValueBase = kept, Value = kept + zero, FillColor = SvgChart.Masked });
            bars.Add(new Bar { Position = l.Layer, ValueBase = kept + zero, Value = kept + zero + deleted, FillColor = SvgChart.Deleted });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            report.Layers.Select(l => (double)l.Layer).ToArray(),
            report.Layers.Select(l => $"{l.Layer}: {l.InFeatures}→{l.OutFeatures}").ToArray());
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "kept (non-zero)", FillColor = SvgChart.Kept });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "masked or zero", FillColor = SvgChart.Masked });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "deleted", FillColor = SvgChart.Deleted });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0);
        return SvgChart.Render(plot, $"Stacked bars per layer of model {report.Model}: kept, masked or zero, and deleted weights.");
    }
}
