namespace SparsePrune;

/// <summary>What a pruning schedule did.</summary>
public sealed class ScheduleResult
{
    /// <summary>The targets the schedule pruned to, in order (Gradual: one per update).</summary>
    public IReadOnlyList<double> Targets { get; init; } = Array.Empty<double>();
    public bool Stopped { get; init; }
    public string? StopNote { get; init; }
    public MetricResult? Metric { get; init; }
    /// <summary>What -MaxLayerSparsity held back in the last step (null: nothing), for the cmdlet's warning.</summary>
    public string? CapNote { get; init; }
}
