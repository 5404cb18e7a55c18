namespace SparsePrune;

/// <summary>How Invoke-PruningSweep runs, as SweepSettings.Resolve decided it: the points' default seed, this shard of <see cref="Shards"/>, and each worker's LibTorch threads (0: as they are).</summary>
public sealed record SweepJob(int Seed, int Shard, int Shards, int ThreadsPerWorker);
