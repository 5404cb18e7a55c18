namespace SparsePrune;

/// <summary>
/// A candidate a <see cref="CompressionCandidateMaker"/> made: its model (the caller's to keep or
/// discard), whether its training ran to its end, and how long making it took where that was
/// measured elsewhere (a worker; null: the caller timed it).
/// </summary>
internal sealed record CompressionCandidateMade(Mlp Model, bool Completed, TimeSpan? Took = null);
