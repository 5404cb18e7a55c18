using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// The property names of input rows that look alike (every row of one Import-Csv file), worked
/// out once: where each model feature sits among them, and whether one of them would be hidden
/// by a prediction property -IncludeInput adds. Rows are read by position after that, so a
/// million rows cost one name comparison each instead of a lookup per feature.
/// </summary>
internal sealed class RowShape
{
    private RowShape(string[] names, int[] featureAt, string? missing, string? collision, string? duplicate)
    {
        Names = names;
        FeatureAt = featureAt;
        MissingFeature = missing;
        Collision = collision;
        Duplicate = duplicate;
    }

    /// <summary>The row's property names, in its order.</summary>
    public string[] Names { get; }

    /// <summary>For each model feature, its position in <see cref="Names"/>.</summary>
    public int[] FeatureAt { get; }

    /// <summary>The first model feature the row lacks, if any.</summary>
    public string? MissingFeature { get; }

    /// <summary>The first input name that is also a prediction property's name, if any.</summary>
    public string? Collision { get; }

    /// <summary>A name that comes twice (case-insensitively, as PowerShell reads names), if any.</summary>
    public string? Duplicate { get; }

    /// <summary>
    /// Works out the shape of a row named <paramref name="names"/> for a model taking
    /// <paramref name="features"/>; <paramref name="reserved"/> are the names the output adds.
    /// </summary>
    public static RowShape For(IReadOnlyList<string> names, IReadOnlyList<string> features, IReadOnlyCollection<string> reserved)
    {
        var copy = names.ToArray();
        // A feature is found by its exact name first, then ignoring case, as data sets meet
        // models (docs/contract.md) and as PowerShell finds properties.
        var exact = new Dictionary<string, int>(copy.Length, StringComparer.Ordinal);
        var anyCase = new Dictionary<string, int>(copy.Length, StringComparer.OrdinalIgnoreCase);
        string? duplicate = null;
        for (int i = 0; i < copy.Length; i++)
        {
            exact.TryAdd(copy[i], i);
            if (!anyCase.TryAdd(copy[i], i)) duplicate ??= copy[i];
        }
        var featureAt = new int[features.Count];
        string? missing = null;
        for (int k = 0; k < features.Count; k++)
        {
            featureAt[k] = exact.TryGetValue(features[k], out var i) || anyCase.TryGetValue(features[k], out i) ? i : -1;
            if (featureAt[k] < 0) missing ??= features[k];
        }
        var collision = copy.FirstOrDefault(n => reserved.Contains(n));
        return new RowShape(copy, featureAt, missing, collision, duplicate);
    }

    private PSNoteProperty[]? _notes;

    /// <summary>
    /// One note per output column of a scored row of this shape (these names, then the layout's),
    /// to be copied into each row: PSObject.Properties.Add copies what it is given.
    /// </summary>
    public PSNoteProperty[] Notes(ScoredRowLayout layout) =>
        _notes ??= Names.Concat(layout.Names).Select(n => new PSNoteProperty(n, null)).ToArray();

    /// <summary>
    /// Whether a row named <paramref name="names"/> has this shape. Import-Csv gives every row the
    /// same name strings, so the reference test answers almost always.
    /// </summary>
    public bool Matches(List<string> names)
    {
        if (names.Count != Names.Length) return false;
        for (int i = 0; i < Names.Length; i++)
            if (!ReferenceEquals(names[i], Names[i]) && !string.Equals(names[i], Names[i], StringComparison.Ordinal)) return false;
        return true;
    }
}
