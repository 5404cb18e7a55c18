namespace SparsePrune;

/// <summary>How a neuron plan takes effect.</summary>
internal enum NeuronApplication
{
    /// <summary>The chosen neurons leave the model now: their layers shrink.</summary>
    RemoveNow,
    /// <summary>
    /// Inside a training run: the chosen neurons' rows and next-layer columns are deleted but the
    /// shapes stay, so the optimizer keeps its state; they are removed when training ends.
    /// </summary>
    MaskDuringTraining,
}
