namespace SparsePrune;

/// <summary>
/// The baseline a compression is judged against: the model's shape and metric before its first
/// sparsify, prune or quantize step. Kept here, not on <see cref="Mlp"/>, because taking it
/// evaluates the model, and evaluation stands on the model.
/// </summary>
internal static class ModelBaselines
{
    /// <summary>Records the baseline before the first sparsify or prune step (no-op afterwards).</summary>
    internal static void EnsureBaseline(this Mlp model, Dataset? data)
    {
        if (model.Baseline is not null) return;
        MetricResult? metric = data is null ? null : Evaluator.Evaluate(model, data);
        model.Baseline = new ModelBaseline
        {
            Time = DateTime.UtcNow,
            Widths = model.Widths,
            LayerWeights = model.State.Select(l => l.DenseWeights).ToArray(),
            LayerNeurons = model.State.Select(l => l.OutFeatures).ToArray(),
            MetricName = metric?.Name,
            Metric = metric?.Value,
            DatasetName = data?.Name,
        };
    }
}
