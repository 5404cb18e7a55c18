namespace SparsePrune;

/// <summary>
/// Everything Optimize-Mlp's timing can be told, exactly as given: null means "not given".
/// Defaults: one row, the batch an interactive caller serves, and the tuner's own repeat count.
/// (-Kernel sets kernels without timing; the binder keeps it apart from these.)
/// </summary>
public sealed record KernelTuningSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Optimize-Mlp";

    public const int DefaultBatchSize = 1;

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["BatchSize"] = DefaultBatchSize,
        ["Repeat"] = KernelTuner.DefaultOptimizeRepeat,
        // -FoldInputScaling's check: the largest output change allowed, relative to the largest output.
        ["Tolerance"] = InputFolding.DefaultTolerance,
    };

    public int? BatchSize { get; init; }
    public int? Repeat { get; init; }

    /// <summary>Fills in the defaults: the batch size to time at and the passes per kernel.</summary>
    public (int BatchSize, int Repeat) Resolve() => (BatchSize ?? DefaultBatchSize, Repeat ?? KernelTuner.DefaultOptimizeRepeat);
}
