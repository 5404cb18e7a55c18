namespace SparsePrune;

/// <summary>What each round of an Iterative schedule starts its retraining from.</summary>
public enum RewindMode
{
    /// <summary>Fine-tuning: -FineTuneEpochs at -FineTuneLearningRate.</summary>
    None,
    /// <summary>
    /// Learning-rate rewinding (Renda, Frankle and Carbin 2020): each round retrains the
    /// surviving weights with the model's first training's learning rate and schedule, from
    /// their start (for -FineTuneEpochs, or as many epochs as that training had).
    /// </summary>
    LearningRate,
}
