namespace SparsePrune;

/// <summary>
/// The baseline a compression is judged against: the model's shape, metric and dense file size
/// before its first sparsify, prune or quantize step. Kept here, not on <see cref="Mlp"/>,
/// because taking it evaluates the model and counts its file (whose length is the reference of
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
            // Counted, not written (SpmlpFormat.DenseFileBytes: the writer's own preamble and the
            // fixed layout of dense layers): for the usual model, dense, float32 and unmasked, that
            // is exactly its file's length (FileBytesTests holds them equal), and writing the file
            // would cost the first Set-Sparsity of a 67 M-weight model seconds and a gigabyte
            // (bench/perf.ps1, figure 2). A model stored sparse or masked already (an ONNX import
            // with sparse initializers) gets the dense file of its shapes, the reference all the same.
            FileBytes = SpmlpFormat.DenseFileBytes(model, model.Widths),
        };
    }
}
