namespace SparsePrune;

/// <summary>
/// Everything Measure-LayerSensitivity can be told, exactly as given: null means "not given".
/// Defaults are the scan's own (<see cref="SensitivityAnalysis"/>) and the pruning request's;
/// the levels and structure are checked where the scan runs.
/// </summary>
public sealed record SensitivitySettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Measure-LayerSensitivity";

    private static readonly PruningRequest Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Ratio"] = SensitivityAnalysis.DefaultLevels,
        ["Structure"] = Base.Structure,
        ["Criterion"] = Base.Criterion,
        ["ValidationFraction"] = SensitivityAnalysis.DefaultValidationFraction,
    };

    public double[]? Ratio { get; init; }
    public PruneStructure? Structure { get; init; }
    public PruneCriterion? Criterion { get; init; }
    public double? ValidationFraction { get; init; }
    public int? Seed { get; init; }

    /// <summary>Fills in the defaults and returns the scan to run.</summary>
    public SensitivityJob Resolve() => new(
        Ratio ?? SensitivityAnalysis.DefaultLevels.ToArray(), Structure ?? Base.Structure, Criterion ?? Base.Criterion,
        ValidationFraction ?? SensitivityAnalysis.DefaultValidationFraction, Seed);
}
