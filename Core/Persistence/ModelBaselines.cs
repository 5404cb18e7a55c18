namespace SparsePrune;

/// <summary>
/// The baseline a compression is judged against: the model's shape, metric and dense file size
/// before its first sparsify, prune or quantize step. Kept here, not on <see cref="Mlp"/>,
/// because taking it evaluates the model and writes it (its file's length is the reference of
/// the compression ratio), and evaluation and the file format stand on the model.
/// </summary>
internal static class ModelBaselines
{
    /// <summary>Records the baseline before the first sparsify, prune or quantize step (no-op afterwards).</summary>
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
            FileBytes = DenseFileBytes(model),
        };
    }

    /// <summary>
    /// The dense float32 file of the model as it is now, before the baseline is set: its own
    /// file when every layer is dense, float32 and unmasked (a trained or imported model, the
    /// usual case), else the dense file of its shapes (an ONNX import with sparse initializers
    /// is stored pruned, and its dense file is the reference, not its own).
    /// </summary>
    private static long DenseFileBytes(Mlp model) =>
        model.State.All(l => l.Stored == LayerStorage.Dense && l.Keep is null && l.Quantization is null)
            ? SpmlpFormat.ToBytes(model).LongLength
            : SpmlpFormat.DenseFileBytes(model, model.Widths);
}
