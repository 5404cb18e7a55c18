using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A model's score on each row of a data set's evaluation split, for a paired comparison of two
/// models on the same rows: 1 or 0 for a row classified right or wrong, the squared error of a
/// regression. Their mean is the accuracy or the loss Evaluator reports.
/// </summary>
internal static class RowScores
{
    public static double[] Of(Mlp model, Dataset data)
    {
        var scores = new double[data.EvaluationSplit.Y.Length];
        Evaluator.ForwardEvaluationSplit(model, data, (output, yb, start) =>
        {
            var rows = data.Task == TaskKind.Classification
                ? output.argmax(1).eq(yb.to_type(ScalarType.Int64)).to_type(ScalarType.Float64)
                : (output.squeeze(1).to_type(ScalarType.Float64) - yb.to_type(ScalarType.Float64)).square();
            rows.cpu().data<double>().CopyTo(scores, start);
        });
        return scores;
    }
}
