namespace SparsePrune;

/// <summary>
/// Where a data set meets a model: whether it fits (task, features by name or position, classes)
/// and its rows as the model's inputs. Both go through <see cref="FeatureMap"/>. On the model's
/// floor, so that everything above (evaluation, training, criteria, inference) asks the same place.
/// </summary>
internal static class ModelInputs
{
    /// <summary>
    /// Refuses a data set that does not fit the model: other features (by name where both know
    /// them, see <see cref="FeatureMap"/>), another task, other classes.
    /// </summary>
    public static void CheckCompatible(Mlp model, Dataset data)
    {
        if (data.Task != model.Task)
            throw SparsePruneException.Argument("TaskMismatch",
                $"The data set '{data.Name}' is a {data.Task} but model '{model.Name}' is a {model.Task}: give the model a {model.Task.ToString().ToLowerInvariant()} data set"
                + (model.Task == TaskKind.Classification ? " (one whose target holds classes)" : " (one whose target is a number)")
                + $", or build a new model for this one with New-Mlp -Task {data.Task}.");
        FeatureMap.Between(model, data);
        if (data.Task == TaskKind.Classification && data.Classes != model.Outputs)
            throw SparsePruneException.Argument("ClassCountMismatch",
                $"The data set '{data.Name}' has {data.Classes} classes but model '{model.Name}' has {model.Outputs} outputs. Make the last width {data.Classes}.");
        if (data.Task == TaskKind.Classification && data.HasFeatureNames && model.ClassNames is { } classes && !classes.SequenceEqual(data.ClassNames, StringComparer.Ordinal))
            throw SparsePruneException.Argument("ClassMismatch",
                $"The classes of data set '{data.Name}' ({string.Join(", ", data.ClassNames.Take(12))}) are not the ones model '{model.Name}' was trained on ({string.Join(", ", classes.Take(12))}): its outputs would be read as the wrong labels. Give a data set with the model's classes.");
        if (data.Task == TaskKind.Regression && model.Outputs != 1)
            throw SparsePruneException.Argument("OutputCountMismatch",
                $"Model '{model.Name}' has {model.Outputs} outputs; a regression on '{data.Name}' needs 1. Make the last width 1.");
    }

    /// <summary>
    /// Rows of <paramref name="data"/> as <paramref name="model"/> expects them: columns in the model's input
    /// order (<see cref="FeatureMap"/>: by name where both know names), and in the normalization
    /// the model was first trained with, so rows normalized otherwise (another -Normalize, another
    /// split) are mapped back to raw values and through the model's statistics. The same array
    /// when the columns are in the model's order and the statistics agree or the model has none yet.
    /// </summary>
    public static float[] For(Mlp model, Dataset data, float[] x)
    {
        var columns = FeatureMap.Between(model, data).Columns;
        int f = data.Features;
        int Column(int j) => columns is null ? j : columns[j];
        var (mo, ms) = (model.FeatureOffset, model.FeatureScale);
        // Columns whose statistics agree are only moved, not re-normalized: bit for bit the same inputs.
        bool rescale = mo is not null && ms is not null && Enumerable.Range(0, f).Any(j => data.Offset[Column(j)] != mo[j] || data.Scale[Column(j)] != ms[j]);
        if (columns is null && !rescale) return x;
        var mapped = new float[x.Length];
        for (long i = 0; i < x.LongLength; i++)
        {
            int j = (int)(i % f), c = Column(j);
            float value = x[i - j + c];
            mapped[i] = rescale ? (float)(((double)value * data.Scale[c] + data.Offset[c] - mo![j]) / ms![j]) : value;
        }
        return mapped;
    }

    /// <summary>
    /// After <paramref name="model"/> trained on <paramref name="data"/>: it becomes the default data set. The input
    /// normalization is taken from the first data set only; later ones are mapped into it
    /// (<see cref="ModelInputs.For"/>), so the weights always see inputs scaled the same way.
    /// </summary>
    public static void Adopt(Mlp model, Dataset data)
    {
        // Names are the model's from its first named data set on: later sets are matched to them
        // (FeatureMap), in whatever column order they come. Positional sets (IDX) name nothing.
        if (data.HasFeatureNames) model.FeatureNames ??= data.FeatureNames.ToArray();
        if (data.Task == TaskKind.Classification) model.ClassNames ??= data.ClassNames.ToArray();
        model.Scaling ??= new InputScaling(data.Normalization, data.Offset.ToArray(), data.Scale.ToArray());
        model.Dataset = data;
    }
}
