namespace SparsePrune;

/// <summary>A training run that can be run again from the initial weights (bit-identical for the same thread count).</summary>
internal sealed record TrainingReplay(TrainingOptions Options, Dataset Data);
