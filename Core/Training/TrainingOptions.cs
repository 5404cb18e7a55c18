using System.Globalization;

namespace SparsePrune;

public sealed record TrainingOptions
{
    /// <summary>The learning rate each optimizer starts from when none is given.</summary>
    public const double AdamLearningRate = 0.001, SgdLearningRate = 0.01;

    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    /// <summary>Null: 0.001 for Adam, 0.01 for SGD.</summary>
    public double? LearningRate { get; init; }
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double Momentum { get; init; }
    public double WeightDecay { get; init; }
    /// <summary>L1 penalty on the weights (λ·Σ|w| added to the loss): drives weights to zero.</summary>
    public double L1 { get; init; }
    /// <summary>Null: derived from the model's seed and step count; recorded in the history.</summary>
    public int? Seed { get; init; }
    /// <summary>Name written to the history ("Train", "FineTune").</summary>
    public string Operation { get; init; } = "Train";
    /// <summary>Constant, or cosine decay from the learning rate to 0 over the run's optimizer steps.</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Constant;
    /// <summary>Knowledge distillation from a teacher model (null: labels only).</summary>
    public DistillationOptions? Distillation { get; init; }
    /// <summary>Train a quantized model's weights freely again (its quantization is dropped, its values kept).</summary>
    public bool Dequantize { get; init; }
    /// <summary>Stops after this many epochs of a run planned for <see cref="Epochs"/> (replaying the start of a run).</summary>
    internal int? StopAfterEpochs { get; init; }
    /// <summary>
    /// Fixes the product of every layer with a mask (tests; a replay of a run that chose one)
    /// instead of timing it (null; see <see cref="LayerProducts"/>).
    /// </summary>
    internal TrainingProduct? Product { get; init; }

    public double EffectiveLearningRate => LearningRate ?? (Optimizer == OptimizerKind.Adam ? AdamLearningRate : SgdLearningRate);

    public void Validate()
    {
        if (Epochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-Epochs must be 0 or more; got {Epochs}.");
        if (BatchSize < 1) throw SparsePruneException.Argument("InvalidBatchSize", $"-BatchSize must be at least 1; got {BatchSize}.");
        if (!(EffectiveLearningRate > 0) || double.IsInfinity(EffectiveLearningRate))
            throw SparsePruneException.Argument("InvalidLearningRate", $"-LearningRate must be a positive number; got {EffectiveLearningRate}.");
        if (!(Momentum >= 0 && Momentum < 1)) throw SparsePruneException.Argument("InvalidMomentum", $"-Momentum must be in [0, 1); got {Momentum}.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw SparsePruneException.Argument("InvalidWeightDecay", $"-WeightDecay must be 0 or more; got {WeightDecay}.");
        if (!(L1 >= 0) || double.IsInfinity(L1)) throw SparsePruneException.Argument("InvalidL1", $"-L1 must be 0 or more; got {L1}.");
        if (Momentum > 0 && Optimizer == OptimizerKind.Adam)
            throw SparsePruneException.Argument("MomentumNeedsSgd", "-Momentum applies to -Optimizer SGD; Adam keeps its own moment estimates.");
    }

    /// <summary>The settings the history records; the Constant schedule and no -Dequantize are left out.</summary>
    public HistorySettings Describe()
    {
        var settings = new HistorySettings()
            .Add(nameof(Epochs), Epochs).Add(nameof(BatchSize), BatchSize).Add(nameof(Optimizer), Optimizer).Add(nameof(LearningRate), EffectiveLearningRate)
            .Add(nameof(Momentum), Momentum).Add(nameof(WeightDecay), WeightDecay).Add(nameof(L1), L1)
            .Add(nameof(LearningRateSchedule), LearningRateSchedule == LearningRateSchedule.Constant ? null : LearningRateSchedule)
            .Add(nameof(Dequantize), Dequantize ? true : null);
        return Distillation is { } d ? settings.Concat(d.Describe()) : settings;
    }

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public double LearningRateAt(long step, long totalSteps) => LearningRateSchedule == LearningRateSchedule.Cosine && totalSteps > 0
        ? EffectiveLearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / totalSteps))
        : EffectiveLearningRate;
}
