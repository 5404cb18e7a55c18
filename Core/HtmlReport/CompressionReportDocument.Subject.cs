using System.Text;

namespace SparsePrune;

/// <summary>One model's section: headline with the formulas, layers, histograms, history.</summary>
public sealed partial class CompressionReportDocument
{
    private static void AppendSubject(StringBuilder html, ReportSubject s, bool open, Func<string, string> chart)
    {
        var r = s.Report;
        html.Append("<section><details").Append(open ? " open=\"open\"" : "").Append("><summary>").Append(Html.Escape(s.Name)).Append("</summary>");
        AppendHeadline(html, r);
        html.Append("<h3>Layers</h3><div class=\"charts\">").Append(chart(LayerWeightsChart.Render(r))).Append("</div>");
        Html.Table(html, $"Layers of {s.Name}",
            new[]
            {
                "layer", "shape", "overall sparsity", "pruning ratio (deleted)", "sparsity of the weights left", "stored", "weights", "non-zero", "baseline weights",
                "neurons", "bits", "stored bytes", "bits/weight", "FLOPs",
            },
            r.Layers.Select(l => (IReadOnlyList<Html.Cell>)new Html.Cell[]
            {
                Html.Num(l.Layer), $"{l.InFeatures}→{l.OutFeatures}",
                Html.Num(l.OverallSparsity, Html.Percent(l.OverallSparsity)), Html.Num(l.PruningRatio, Html.Percent(l.PruningRatio)), Html.Num(l.Sparsity, Html.Percent(l.Sparsity)),
                l.Stored.ToString(), Html.Num(l.Weights), Html.Num(l.NonZeroWeights), Html.Num(l.BaselineWeights),
                new($"{Html.Count(l.Neurons)} of {Html.Count(l.BaselineNeurons)}", l.Neurons),
                l.Bits is { } b ? Html.Num(b) : "32 (float)", Html.Num(l.StoredBytes), Html.Num(l.BitsPerWeight, Html.Number(l.BitsPerWeight, "0.00")), Html.Num(l.Flops),
            }));
        if (s.Histograms.Count > 0)
        {
            html.Append("<h3>Weight magnitudes</h3><div class=\"charts\">");
            foreach (var h in s.Histograms) html.Append(chart(WeightHistogramChart.Render(s.Name, h)));
            html.Append("</div>");
        }
        if (s.History.Count > 0)
        {
            html.Append("<h3>History</h3><div class=\"charts\">").Append(chart(HistoryChart.Render(s.Name, s.History))).Append("</div>");
            Html.Table(html, $"History of {s.Name}",
                new[] { "step", "operation", "parameters", "weights", "non-zero", "metric", "note" },
                s.History.Select(h => (IReadOnlyList<Html.Cell>)new Html.Cell[]
                {
                    Html.Num(h.Step), h.Operation, h.Settings.ToString(), Html.Num(h.WeightsAfter), Html.Num(h.NonZeroAfter),
                    h.Metric is { } m ? Html.Num(m, $"{h.MetricName} {Html.Number(m)}") : "", h.Note ?? "",
                }), "history");
        }
        else if (s.Histograms.Count == 0)
            html.Append("<p class=\"none\">Built from a compression report alone: give the model itself for its weight histograms and history.</p>");
        html.Append("</details></section>\n");
    }

    /// <summary>
    /// The headline: each figure with its formula and the values that went in (the contract's
    /// definitions). Overall sparsity comes first: it is the share of the original weights that
    /// are gone or zero, the figure a reader of a pruned model asks for. Sparsity alone counts
    /// only the weights still present, so a model pruned by 90 % with no zeros among the rest
    /// shows 0 % there.
    /// </summary>
    private static void AppendHeadline(StringBuilder html, CompressionReport r)
    {
        html.Append("<dl class=\"headline\">");
        void Row(string term, string value) => html.Append("<dt>").Append(Html.Escape(term)).Append("</dt><dd>").Append(Html.Escape(value)).Append("</dd>");
        Row("Overall sparsity (of the original weights)", $"1 − K / N₀ = 1 − {Html.Count(r.NonZeroWeights)} / {Html.Count(r.BaselineWeights)} = {Html.Percent(r.OverallSparsity)}");
        Row("Pruning ratio (deleted)", $"M / N₀ = {Html.Count(r.PrunedWeights)} / {Html.Count(r.BaselineWeights)} = {Html.Percent(r.PruningRatio)}");
        Row("Sparsity of the weights left", $"(N − K) / N = ({Html.Count(r.Weights)} − {Html.Count(r.NonZeroWeights)}) / {Html.Count(r.Weights)} = {Html.Percent(r.Sparsity)}");
        Row("Weights", $"N₀ = {Html.Count(r.BaselineWeights)} at baseline, M = {Html.Count(r.PrunedWeights)} deleted, N = {Html.Count(r.Weights)} left, K = {Html.Count(r.NonZeroWeights)} non-zero");
        Row("Neurons", $"{Html.Count(r.Neurons)} of {Html.Count(r.BaselineNeurons)}");
        Row("File (.spmlp)", r.FileBytes > 0
            ? $"{Html.Count(r.FileBytes)} bytes, the dense float32 file at baseline {Html.Count(r.BaselineFileBytes)}; compression ratio {Html.Count(r.BaselineFileBytes)} / {Html.Count(r.FileBytes)} = {Html.Ratio(r.CompressionRatio)}"
            : "not recorded (a sweep result file of an earlier release, or a model Export-Mlp cannot write)");
        Row("Weights' bytes", $"{Html.Count(r.StoredBytes)} stored of {Html.Count(r.BaselineDenseBytes)} dense float32; weight compression ratio {Html.Count(r.BaselineDenseBytes)} / {Html.Count(r.StoredBytes)} = {Html.Ratio(r.WeightCompressionRatio)}; {Html.Number(r.BitsPerWeight, "0.00")} bits per weight");
        Row("FLOPs", $"{Html.Count(r.Flops)} of {Html.Count(r.BaselineFlops)}; speedup {Html.Count(r.BaselineFlops)} / {Html.Count(r.Flops)} = {Html.Ratio(r.Speedup)}");
        Row(r.MetricName ?? "Metric", r.Metric is { } m
            ? $"{(r.BaselineMetric is { } b ? Html.Number(b) : "not recorded")} → {Html.Number(m)}{(r.MetricChange is { } c ? $" ({Html.Number(c, "+0.####;-0.####;0")})" : "")}{(r.Dataset is { } d ? $" on {d}" : "")}"
            : "no metric: the model has no data set; give -Dataset to measure it");
        html.Append("</dl>");
    }
}
