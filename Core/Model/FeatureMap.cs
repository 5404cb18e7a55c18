namespace SparsePrune;

/// <summary>
/// Which column of a data set feeds which input of a model. Columns are matched by name when
/// both sides know their features' names (a CSV header, object properties, the embedded sets),
/// so a CSV with the model's columns in another order scores the same; by position when either
/// does not (IDX images, a model imported without names). This is the one place that decides:
/// every path where a data set meets a model (<see cref="ModelInputs.CheckCompatible"/>,
/// <see cref="ModelInputs.For"/>) goes through it.
/// </summary>
internal sealed class FeatureMap
{
    private FeatureMap(int[]? columns) => Columns = columns;

    /// <summary>For each model input, the data set column it reads; null when that is the same position.</summary>
    public int[]? Columns { get; }

    public bool IsIdentity => Columns is null;

    /// <summary>
    /// The map from <paramref name="data"/>'s columns to <paramref name="model"/>'s inputs.
    /// Throws FeatureMismatch (naming the missing and the unknown columns) when the names do not
    /// match, FeatureCountMismatch when matching by position and the counts differ.
    /// </summary>
    public static FeatureMap Between(Mlp model, Dataset data)
    {
        var wanted = model.FeatureNames;
        if (wanted is null || !data.HasFeatureNames || wanted.Length != model.InputFeatures)
        {
            if (data.Features != model.InputFeatures)
                throw SparsePruneException.Argument("FeatureCountMismatch",
                    $"The data set '{data.Name}' has {data.Features} features but model '{model.Name}' takes {model.InputFeatures} inputs. Build the model with -Layers {data.Features},… or use a matching data set.");
            return new FeatureMap(null);
        }

        var have = data.FeatureNames;
        var columns = new int[wanted.Length];
        var missing = new List<string>();
        var used = new bool[have.Count];
        for (int j = 0; j < wanted.Length; j++)
        {
            int c = Find(have, wanted[j]);
            if (c < 0) missing.Add(wanted[j]);
            else if (c == Ambiguous)
                throw SparsePruneException.Argument("FeatureMismatch",
                    $"The data set '{data.Name}' has more than one column named '{wanted[j]}' (names are matched ignoring case); model '{model.Name}' cannot tell which is its input. Rename or leave out one of them.");
            else { columns[j] = c; used[c] = true; }
        }
        var unknown = have.Where((_, c) => !used[c]).ToList();
        if (missing.Count > 0 || unknown.Count > 0)
            throw SparsePruneException.Argument("FeatureMismatch", MismatchMessage(model, data, missing, unknown));
        bool identity = columns.Select((c, j) => c == j).All(same => same);
        return new FeatureMap(identity ? null : columns);
    }

    private const int Ambiguous = -2;

    /// <summary>The column of that name: an exact match first, else the one match ignoring case (PowerShell users expect that).</summary>
    private static int Find(IReadOnlyList<string> names, string name)
    {
        for (int c = 0; c < names.Count; c++)
            if (string.Equals(names[c], name, StringComparison.Ordinal)) return c;
        int found = -1;
        for (int c = 0; c < names.Count; c++)
        {
            if (!string.Equals(names[c], name, StringComparison.OrdinalIgnoreCase)) continue;
            if (found >= 0) return Ambiguous;
            found = c;
        }
        return found;
    }

    private static string MismatchMessage(Mlp model, Dataset data, List<string> missing, List<string> unknown)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"it lacks {Count(missing.Count)} the model takes ({List(missing)})");
        if (unknown.Count > 0) parts.Add($"it has {Count(unknown.Count)} the model does not know ({List(unknown)})");
        var fix = unknown.Count > 0 && missing.Count == 0
            ? "Leave the extra columns out (Import-Dataset -ExcludeColumn, ConvertTo-Dataset -FeatureProperty)."
            : "Give a data set with the columns the model was trained on (their order does not matter): " + List(model.FeatureNames!) + ".";
        return $"The {data.Features} features of data set '{data.Name}' do not match the {model.InputFeatures} inputs of model '{model.Name}': {string.Join("; ", parts)}. Columns are matched by name. {fix}";
    }

    private static string Count(int n) => n == 1 ? "1 feature" : $"{n} features";

    private static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(12).Select(n => $"'{n}'")) + (names.Count > 12 ? $", … ({names.Count - 12} more)" : "");
}
