namespace SparsePrune;

/// <summary>Progress of a training run, reported after every epoch and every few batches.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, bool EpochDone);
