using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A model's score on each row of a data set's evaluation split, for a paired comparison of two
/// models on the same rows: 1 or 0 for a row classified right or wrong, the squared error of a
/// regression. Their mean is the accuracy or the loss Evaluator reports.
/// </summary>
internal static class RowScores
{
    private const int Chunk = 4096;

    public static double[] Of(Mlp model, Dataset data)
    {
        Evaluator.CheckCompatible(model, data);
        var (x, y) = data.EvaluationSplit;
        x = data.InputsFor(model, x);
        int f = data.Features, n = y.Length;
        var scores = new double[n];
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += Chunk)
        {
            // One scope per chunk: a large split's outputs are freed as the loop goes.
            using var scope = NewDisposeScope();
            int count = Math.Min(Chunk, n - start);
            var xb = NativeCopy.Floats(x.AsSpan((int)((long)start * f), count * f), new long[] { count, f }).to(model.TorchDevice);
            var yb = tensor(y.AsSpan(start, count).ToArray()).to(model.TorchDevice);
            var output = model.Forward(xb);
            var rows = data.Task == TaskKind.Classification
                ? output.argmax(1).eq(yb.to_type(ScalarType.Int64)).to_type(ScalarType.Float64)
                : (output.squeeze(1).to_type(ScalarType.Float64) - yb.to_type(ScalarType.Float64)).square();
            rows.cpu().data<double>().CopyTo(scores, start);
        }
        return scores;
    }
}
