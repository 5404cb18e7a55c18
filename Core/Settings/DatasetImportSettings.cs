namespace SparsePrune;

/// <summary>
/// Everything Import-Dataset can be told, exactly as given: null means "not given". Whether the
/// path holds IDX files or a CSV file decides which settings apply; that rule lives here, once.
/// </summary>
public sealed record DatasetImportSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Import-Dataset";

    private static readonly DatasetOptions Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["TestFraction"] = Base.TestFraction,
        ["Seed"] = Base.Seed,
        ["Normalize"] = Base.Normalization,
    };

    /// <summary>A CSV file, a folder of IDX files or an IDX prefix, as a full path.</summary>
    public required string Path { get; init; }
    /// <summary>The target column (CSV; null: the last column).</summary>
    public string? TargetColumn { get; init; }
    /// <summary>CSV columns that are not features.</summary>
    public string[]? ExcludeColumn { get; init; }
    public TaskKind? Task { get; init; }
    public double? TestFraction { get; init; }
    public int? Seed { get; init; }
    public Normalization? Normalize { get; init; }
    /// <summary>The data set's name (null: from the path).</summary>
    public string? Name { get; init; }

    /// <summary>Checks which settings apply to what the path holds and returns the import to run.</summary>
    public DatasetImportJob Resolve()
    {
        bool idx = Directory.Exists(Path) || (!File.Exists(Path) && DatasetLoader.IsIdxPrefix(Path));
        if (idx && TestFraction is not null)
            NotApplicable($"IDX files keep their official train/test split, so -TestFraction does not apply to '{Path}'.");
        if (idx && TargetColumn is not null)
            NotApplicable($"-TargetColumn names a CSV column; '{Path}' holds IDX files, whose labels are the target.");
        if (idx && ExcludeColumn is not null)
            NotApplicable($"-ExcludeColumn names CSV columns; '{Path}' holds IDX files, whose pixels are all features.");
        return new DatasetImportJob(Path, idx, DatasetOptions.From(TestFraction, Seed, Normalize, Task), TargetColumn, ExcludeColumn, Name);
    }

    private static void NotApplicable(string message) => throw SparsePruneException.Argument("ParameterNotApplicable", message);
}
