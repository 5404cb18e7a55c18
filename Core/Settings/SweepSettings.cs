using System.Globalization;

namespace SparsePrune;

/// <summary>
/// The settings of Invoke-PruningSweep that shape how it runs (not the grid, which holds each
/// point's own settings), exactly as given: null means "not given". Defaults and rules live
/// here, once.
/// </summary>
public sealed record SweepSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Invoke-PruningSweep";

    /// <summary>A fixed seed, so that running a sweep again gives the same results.</summary>
    public const int DefaultSeed = 0;

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Seed"] = DefaultSeed,
    };

    /// <summary>The seed of every point that does not set its own.</summary>
    public int? Seed { get; init; }
    /// <summary>"i/n": only the points whose number modulo n is i.</summary>
    public string? Shard { get; init; }
    /// <summary>Worker processes on this machine (null: not the process engine).</summary>
    public int? ThrottleLimit { get; init; }
    public int? ThreadsPerWorker { get; init; }
    /// <summary>The cores the worker processes share (null: this machine's).</summary>
    public int? ProcessorCount { get; init; }

    /// <summary>Fills in the defaults, checks the shard and returns how the sweep runs.</summary>
    public SweepJob Resolve()
    {
        var (shard, shards) = ParseShard();
        int cores = ProcessorCount ?? Environment.ProcessorCount;
        // Worker processes split this machine's cores; 0 leaves the session's threads as they are
        // and lets a remote host share its own cores among its workers.
        int threads = ThreadsPerWorker ?? (ThrottleLimit is { } workers ? Math.Max(1, cores / workers) : 0);
        return new SweepJob(Seed ?? DefaultSeed, shard, shards, threads);
    }

    private (int Shard, int Shards) ParseShard()
    {
        if (Shard is null) return (0, 1);
        var parts = Shard.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && i < n)
            return (i, n);
        throw SparsePruneException.Argument("InvalidShard", $"-Shard '{Shard}' is i/n with 0 <= i < n (e.g. 0/3, 1/3, 2/3 for three tasks); for a Kubernetes Indexed Job: -Shard \"$env:JOB_COMPLETION_INDEX/<completions>\".");
    }
}
