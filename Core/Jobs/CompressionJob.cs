namespace SparsePrune;

/// <summary>What Compress-Mlp runs, as CompressionSettings.Resolve decided it: the search's options and whether to write the candidates.</summary>
public sealed record CompressionJob(CompressionOptions Options, bool WriteCandidates);
