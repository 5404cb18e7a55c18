namespace SparsePrune;

/// <summary>
/// What Compress-Mlp runs, as CompressionSettings.Resolve decided it: the search's options, whether
/// to write the candidates, and the LibTorch threads of each worker and of the session while it
/// searches (0: the session's as they are, and a remote host's cores shared among its workers).
/// </summary>
public sealed record CompressionJob(CompressionOptions Options, bool WriteCandidates, int Threads = 0);
