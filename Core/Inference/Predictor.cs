using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Runs raw (unnormalized) rows through a model.</summary>
public static class Predictor
{
    /// <summary>
    /// Predicts <paramref name="rows"/> raw rows laid out row-major in <paramref name="raw"/>;
    /// <paramref name="firstRow"/> numbers the results.
    /// </summary>
    public static IReadOnlyList<object> Predict(Mlp model, float[] raw, int rows, long firstRow = 0)
    {
        int f = model.InputFeatures;
        if (rows < 0 || raw.LongLength != (long)rows * f)
            throw SparsePruneException.Argument("FeatureCountMismatch", $"Model '{model.Name}' takes {f} inputs per row; got {(rows == 0 ? raw.Length : raw.Length / Math.Max(rows, 1))}.");
        foreach (var v in raw)
            if (float.IsNaN(v) || float.IsInfinity(v))
                throw SparsePruneException.Argument("InvalidInputValue", "An input row holds NaN or infinity; every input must be a finite number.");
        var results = new List<object>(rows);
        if (rows == 0) return results;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = model.NormalizeInputs(NativeCopy.Floats(raw, new long[] { rows, f }).to(model.TorchDevice));
        var output = model.Forward(x);
        if (model.Task == TaskKind.Classification)
        {
            var probs = output.softmax(1).to_type(ScalarType.Float64).data<double>().ToArray();
            int c = model.Outputs;
            for (int i = 0; i < rows; i++)
            {
                var p = probs.AsSpan(i * c, c).ToArray();
                int best = 0;
                for (int k = 1; k < c; k++) if (p[k] > p[best]) best = k;
                results.Add(new ClassPrediction
                {
                    Row = firstRow + i, ClassIndex = best, Probability = p[best], Probabilities = p,
                    Label = model.ClassNames is { } names && best < names.Length ? names[best] : best.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
        }
        else
        {
            var values = output.reshape(rows, -1).select(1, 0).to_type(ScalarType.Float64).data<double>().ToArray();
            for (int i = 0; i < rows; i++) results.Add(new RegressionPrediction { Row = firstRow + i, Value = values[i] });
        }
        return results;
    }
}
