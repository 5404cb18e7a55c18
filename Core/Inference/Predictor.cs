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
        var results = new List<object>(rows);
        var scores = Scores(model, raw, rows);
        if (rows == 0) return results;
        if (model.Task == TaskKind.Classification)
        {
            int c = model.Outputs;
            for (int i = 0; i < rows; i++)
            {
                var p = scores.AsSpan(i * c, c).ToArray();
                int best = ArgMax(p);
                results.Add(new ClassPrediction
                {
                    Row = firstRow + i, ClassIndex = best, Probability = p[best], Probabilities = p,
                    Label = ClassLabel(model, best),
                });
            }
        }
        else
        {
            for (int i = 0; i < rows; i++) results.Add(new RegressionPrediction { Row = firstRow + i, Value = scores[i] });
        }
        return results;
    }

    /// <summary>
    /// The bare numbers behind <see cref="Predict"/> for the first <paramref name="rows"/> rows of
    /// <paramref name="raw"/> (which may be longer: a reused batch buffer): a classifier's softmax
    /// probabilities, row-major (rows x Outputs), or a regressor's value per row. Callers that build
    /// their own output (Invoke-Mlp -IncludeInput) take these instead of prediction objects.
    /// </summary>
    public static double[] Scores(Mlp model, ReadOnlySpan<float> raw, int rows)
    {
        int f = model.InputFeatures;
        if (rows < 0 || raw.Length < (long)rows * f)
            throw SparsePruneException.Argument("FeatureCountMismatch", $"Model '{model.Name}' takes {f} inputs per row; got {raw.Length} values for {rows} rows.");
        var used = raw[..(rows * f)];
        foreach (var v in used)
            if (float.IsNaN(v) || float.IsInfinity(v))
                throw SparsePruneException.Argument("InvalidInputValue", "An input row holds NaN or infinity; every input must be a finite number.");
        if (rows == 0) return Array.Empty<double>();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = model.NormalizeInputs(NativeCopy.Floats(used, new long[] { rows, f }).to(model.TorchDevice));
        var output = model.Forward(x);
        return model.Task == TaskKind.Classification
            ? output.softmax(1).to_type(ScalarType.Float64).data<double>().ToArray()
            : output.reshape(rows, -1).select(1, 0).to_type(ScalarType.Float64).data<double>().ToArray();
    }

    /// <summary>The index of the largest value; the first one on a tie.</summary>
    public static int ArgMax(ReadOnlySpan<double> p)
    {
        int best = 0;
        for (int k = 1; k < p.Length; k++) if (p[k] > p[best]) best = k;
        return best;
    }

    /// <summary>A class's name: the model's ClassNames entry, else its index as text.</summary>
    public static string ClassLabel(Mlp model, int index) =>
        model.ClassNames is { } names && index < names.Length ? names[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
