namespace SparsePrune;

/// <summary>
/// Everything Get-Dataset can be told, exactly as given: null means "not given", so a rule can
/// tell -TestFraction given from the default (no look at which parameters were bound).
/// </summary>
public sealed record BuiltInDatasetSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Get-Dataset";

    private static readonly DatasetOptions Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["TestFraction"] = Base.TestFraction,
        ["Seed"] = Base.Seed,
        ["Normalize"] = Base.Normalization,
    };

    /// <summary>Digits, Iris, Synthetic, FashionMnist or Mnist.</summary>
    public required string Name { get; init; }
    /// <summary>The folder of IDX files (FashionMnist, Mnist), as a full path.</summary>
    public string? Path { get; init; }
    public double? TestFraction { get; init; }
    public int? Seed { get; init; }
    public Normalization? Normalize { get; init; }

    /// <summary>Whether <see cref="Name"/> is read from IDX files, which come with their own train/test split.</summary>
    public bool IsIdx => Name is "FashionMnist" or "Mnist";

    /// <summary>Checks which settings apply to this data set and returns the options to load it with.</summary>
    public DatasetOptions Resolve()
    {
        if (!IsIdx && Path is not null)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"-Path names a folder of IDX files (FashionMnist, Mnist); '{Name}' is built in. For a file of your own use Import-Dataset.");
        if (IsIdx && TestFraction is not null)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"'{Name}' keeps its official train/test split (60000/10000), so -TestFraction does not apply.");
        return DatasetOptions.From(TestFraction, Seed, Normalize, task: null);
    }
}
