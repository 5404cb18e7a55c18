namespace SparsePrune;

/// <summary>
/// Everything Compress-Mlp can be told, exactly as given: null means "not given". Every default
/// lives here (read from <see cref="CompressionOptions"/>), once; the checks that need the model
/// or its data stay with the search, which sees them.
/// </summary>
public sealed record CompressionSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Compress-Mlp";

    private static readonly CompressionOptions Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Objective"] = Base.Objective,
        ["ValidationFraction"] = $"{CompressionOptions.DefaultValidationFraction}, more (up to {CompressionOptions.LargestDefaultValidationFraction}) when the budget needs more rows",
        ["Confidence"] = Base.Confidence,
        ["Epochs"] = $"{CompressionOptions.DefaultEpochs}, more on a small data set (at least {CompressionOptions.MinimumSteps} steps)",
        ["FineTuneEpochs"] = Base.FineTuneEpochs,
        ["BatchSize"] = Base.LatencyBatchSize,
        ["TrainingBatchSize"] = Base.BatchSize,
        ["ThreadsPerWorker"] = "This machine's cores divided among the worker processes (-ThrottleLimit), or a host's among its workers (-HostName); in this session, the session's",
    };

    public double? MaxAccuracyDrop { get; init; }
    public double? MaxLossIncrease { get; init; }
    public CompressionObjective? Objective { get; init; }
    public TimeSpan? TimeLimit { get; init; }
    public Mlp? Teacher { get; init; }
    public double? ValidationFraction { get; init; }
    public double? Confidence { get; init; }
    public int? Epochs { get; init; }
    public int? FineTuneEpochs { get; init; }
    /// <summary>Rows per forward pass when latency is measured.</summary>
    public int? BatchSize { get; init; }
    public int? TrainingBatchSize { get; init; }
    public int? Seed { get; init; }
    public bool? PassThru { get; init; }
    /// <summary>Worker processes on this machine (null: not that engine).</summary>
    public int? ThrottleLimit { get; init; }
    /// <summary>SSH hosts of the workers (null: not that engine).</summary>
    public string[]? HostName { get; init; }
    public int? ThreadsPerWorker { get; init; }
    /// <summary>The cores the worker processes share (null: this machine's).</summary>
    public int? ProcessorCount { get; init; }

    /// <summary>Checks which settings combine, fills in the defaults and returns the search to run.</summary>
    public CompressionJob Resolve()
    {
        if (MaxAccuracyDrop is not null && MaxLossIncrease is not null)
            NotApplicable("Give one budget: -MaxAccuracyDrop (classification) or -MaxLossIncrease (regression).");
        if (MaxAccuracyDrop is null && MaxLossIncrease is null)
            throw SparsePruneException.Argument("BudgetRequired", "Compress-Mlp needs a budget: -MaxAccuracyDrop 0.01 (a classifier may lose at most one point of accuracy) or -MaxLossIncrease 0.1 (a regression's loss may rise at most 10 %).");
        var objective = Objective ?? Base.Objective;
        if (ThrottleLimit is not null && HostName is not null)
            NotApplicable("Give one engine: -ThrottleLimit (worker processes on this machine) or -HostName (SSH hosts).");
        if (ThrottleLimit is < 1) throw SparsePruneException.Argument("InvalidThrottleLimit", $"-ThrottleLimit is the number of worker processes, at least 1; got {ThrottleLimit}.");
        if (HostName is { Length: 0 }) throw SparsePruneException.Argument("InvalidHostName", "-HostName needs at least one host.");
        if (ThreadsPerWorker is < 1) throw SparsePruneException.Argument("InvalidThreadsPerWorker", $"-ThreadsPerWorker must be at least 1; got {ThreadsPerWorker}.");
        if (BatchSize is not null && objective != CompressionObjective.Latency)
            NotApplicable($"-BatchSize is the batch latency is measured at; -Objective {objective} does not measure latency. Give -Objective Latency, or -TrainingBatchSize for the candidates' training.");
        var options = new CompressionOptions
        {
            MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, Objective = objective, TimeLimit = TimeLimit,
            Teacher = Teacher,
            ValidationFraction = ValidationFraction, Confidence = Confidence ?? Base.Confidence,
            Epochs = Epochs, FineTuneEpochs = FineTuneEpochs ?? Base.FineTuneEpochs,
            LatencyBatchSize = BatchSize ?? Base.LatencyBatchSize, BatchSize = TrainingBatchSize ?? Base.BatchSize, Seed = Seed,
        };
        // Worker processes split this machine's cores, and the session searches at their count so
        // that its results are the serial search's at that count; 0 leaves the session's threads
        // as they are and lets a remote host share its own cores among its workers.
        int cores = ProcessorCount ?? Environment.ProcessorCount;
        int threads = ThreadsPerWorker ?? (ThrottleLimit is { } workers ? Math.Max(1, cores / workers) : 0);
        return new CompressionJob(options, PassThru == true, threads);
    }

    private static void NotApplicable(string message) => throw SparsePruneException.Argument("ParameterNotApplicable", message);
}
