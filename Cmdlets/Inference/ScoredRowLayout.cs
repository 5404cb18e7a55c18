using System.Globalization;

namespace SparsePrune.Cmdlets;

/// <summary>
/// The names of the properties Invoke-Mlp -IncludeInput adds after the input's: PredictedLabel,
/// PredictedProbability and Probability_&lt;class&gt; for a classifier, PredictedValue for a
/// regressor. The "Predicted"/"Probability_" prefixes keep them apart from the usual input
/// columns (a "label" or "species" target stays as it came); an input property that does carry
/// one of these names is an error, never overwritten.
/// </summary>
internal sealed class ScoredRowLayout
{
    public const string LabelName = "PredictedLabel";
    public const string ProbabilityName = "PredictedProbability";
    public const string ValueName = "PredictedValue";
    public const string ClassPrefix = "Probability_";

    private ScoredRowLayout(bool classifier, string[] labels, string[] classColumns)
    {
        Classifier = classifier;
        Labels = labels;
        ClassColumns = classColumns;
        Names = classifier ? new[] { LabelName, ProbabilityName }.Concat(classColumns).ToArray() : new[] { ValueName };
        Reserved = new HashSet<string>(Names, StringComparer.OrdinalIgnoreCase);
    }

    public bool Classifier { get; }

    /// <summary>Each class's label, by class index.</summary>
    public string[] Labels { get; }

    /// <summary>Each class's probability property, by class index.</summary>
    public string[] ClassColumns { get; }

    /// <summary>The names the layout adds, in their order.</summary>
    public string[] Names { get; }

    /// <summary>Every name the layout adds, case-insensitively (PowerShell's property names are).</summary>
    public HashSet<string> Reserved { get; }

    /// <summary>
    /// The layout for <paramref name="model"/>; null with <paramref name="clash"/> set when two
    /// classes would give the same column (class names that differ only in case).
    /// </summary>
    public static ScoredRowLayout? For(Mlp model, out string? clash)
    {
        clash = null;
        if (model.Task != TaskKind.Classification) return new ScoredRowLayout(false, Array.Empty<string>(), Array.Empty<string>());
        var labels = Enumerable.Range(0, model.Outputs).Select(k => Predictor.ClassLabel(model, k)).ToArray();
        var columns = labels.Select(l => ClassPrefix + l).ToArray();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { LabelName, ProbabilityName };
        foreach (var c in columns)
            if (!seen.Add(c)) { clash = c; return null; }
        return new ScoredRowLayout(true, labels, columns);
    }

    /// <summary>Names for the values of an array row: the model's features, else x0, x1, ….</summary>
    public static string[] ArrayNames(Mlp model) =>
        model.FeatureNames is { } names && names.Length == model.InputFeatures
            ? names
            : Enumerable.Range(0, model.InputFeatures).Select(j => "x" + j.ToString(CultureInfo.InvariantCulture)).ToArray();
}
