namespace SparsePrune;

/// <summary>
/// Everything Measure-Mlp can be told, exactly as given: null means "not given". Its defaults
/// are the measuring code's own (Evaluator, KernelTuner) and the batch sizes defined here; the parameter sets (-BatchSize and -Warmup with -Latency only) are
/// the binder's.
/// </summary>
public sealed record MeasurementSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Measure-Mlp";

    public const int DefaultRepeat = Evaluator.DefaultRepeats;
    public const int DefaultWarmup = KernelTuner.DefaultWarmup;
    /// <summary>One row (interactive latency) and one large batch (throughput).</summary>
    public static IReadOnlyList<int> DefaultBatchSizes { get; } = new[] { 1, 256 };

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Repeat"] = DefaultRepeat,
        ["BatchSize"] = DefaultBatchSizes,
        ["Warmup"] = DefaultWarmup,
    };

    public bool? Latency { get; init; }
    public int? Repeat { get; init; }
    public int[]? BatchSize { get; init; }
    public int? Warmup { get; init; }

    /// <summary>Fills in the defaults and returns the measurement to run.</summary>
    public MeasurementJob Resolve()
    {
        bool latency = Latency ?? false;
        if (!latency && (BatchSize is not null || Warmup is not null))
            throw SparsePruneException.Argument("ParameterNotApplicable", "-BatchSize and -Warmup shape the batches -Latency times: give -Latency too.");
        return new MeasurementJob(latency, Repeat ?? DefaultRepeat, BatchSize ?? DefaultBatchSizes.ToArray(), Warmup ?? DefaultWarmup);
    }
}
