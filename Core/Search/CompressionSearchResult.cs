namespace SparsePrune;

/// <summary>What Compress-Mlp tried and chose.</summary>
public sealed class CompressionSearchResult
{
    public IReadOnlyList<CompressionCandidate> Candidates { get; init; } = Array.Empty<CompressionCandidate>();
    /// <summary>The candidate the model became; null when none kept within the budget (the model is as it was).</summary>
    public CompressionCandidate? Chosen { get; init; }
    /// <summary>The least costly candidate, within the budget or not (what the warning names when none is).</summary>
    public CompressionCandidate? LeastCost { get; init; }
    public string MetricName { get; init; } = "";
    public double ReferenceMetric { get; init; }
    public int ValidationRows { get; init; }
    /// <summary>Why the search ended early (Ctrl+C, the time limit), null when it ran to its end.</summary>
    public string? StopNote { get; init; }
    /// <summary>True when Ctrl+C ended the search (the best candidate so far is kept).</summary>
    public bool Stopped { get; init; }
    public TimeSpan Elapsed { get; init; }
}
