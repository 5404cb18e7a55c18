namespace SparsePrune;

/// <summary>What Invoke-Quantization runs, as QuantizationSettings.Resolve decided it: the quantization, then <see cref="FineTuneEpochs"/> of training of the shared values.</summary>
public sealed record QuantizationJob(QuantizationRequest Request, int FineTuneEpochs, TrainingOptions Training);
