namespace SparsePrune.Cmdlets;

/// <summary>A point whose own cmdlets failed (its parameters, its data): reported, never retried elsewhere.</summary>
internal sealed class SweepPointFailedException(SweepPoint point, string message, string? errorId) : Exception(message)
{
    public SweepPoint Point { get; } = point;
    public string? ErrorId { get; } = errorId;
}
