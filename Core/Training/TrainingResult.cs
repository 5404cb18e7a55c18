namespace SparsePrune;

/// <summary>What a training run did.</summary>
public sealed class TrainingResult
{
    public int EpochsCompleted { get; init; }
    public bool Stopped { get; init; }
    /// <summary>Where a stopped run stopped (null when it ran to the end).</summary>
    public string? StopNote { get; init; }
    public double FinalLoss { get; init; }
    public int Seed { get; init; }
    public MetricResult? Metric { get; init; }
    /// <summary>Which layers trained through the sparse kernels (null: none), for the history's note.</summary>
    internal string? ProductNote { get; init; }
}
