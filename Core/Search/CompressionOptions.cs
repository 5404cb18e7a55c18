using System.Globalization;

namespace SparsePrune;

/// <summary>
/// What Compress-Mlp searches for: the smallest (or fastest) model whose validation metric stays
/// within one budget, and how the candidates are trained and judged.
/// </summary>
public sealed record CompressionOptions
{
    /// <summary>Epochs of gradual pruning each pruning candidate trains at least (the accuracy bench's recipe).</summary>
    public const int DefaultEpochs = 45;
    /// <summary>Optimizer steps a pruning candidate takes at least: a small data set trains more epochs, so the ramp has steps to rise over.</summary>
    public const int MinimumSteps = 2000;
    /// <summary>Epochs of training of the shared values after weight sharing.</summary>
    public const int DefaultFineTuneEpochs = 5;
    /// <summary>Share of the training split the candidates are judged on (kept from their training), unless the budget needs more rows.</summary>
    public const double DefaultValidationFraction = 0.1;
    /// <summary>The most of the training split the default holds out for a budget that needs many rows.</summary>
    public const double LargestDefaultValidationFraction = 0.5;
    /// <summary>Latency is measured one row at a time unless told otherwise (Measure-Mlp's single-row latency).</summary>
    public const int DefaultLatencyBatchSize = 1;

    /// <summary>Largest accepted drop in validation accuracy, a fraction (0.01 = one point).</summary>
    public double? MaxAccuracyDrop { get; init; }
    /// <summary>Largest accepted relative rise of the validation loss (0.1 = 10 %).</summary>
    public double? MaxLossIncrease { get; init; }
    public CompressionObjective Objective { get; init; } = CompressionObjective.FileSize;
    /// <summary>Wall-clock limit of the search; when it passes, the best candidate found so far is kept. Null: none.</summary>
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>
    /// A teacher every candidate's training (and the reference's) distils from; null: none. Not a
    /// copy of the model as given by default: measured on LeNet-300-100 / Fashion-MNIST (seed 0,
    /// -MaxAccuracyDrop 0.01), distilling from it chose 90 % sparsity and a 27 KB file, without it
    /// 97 % and 17 KB. That copy has learned the validation rows (it trained on the whole training
    /// split), and a reference held to it by distillation keeps them (validation accuracy 0.92
    /// against 0.90 without), so every candidate's cost reads high.
    /// </summary>
    public Mlp? Teacher { get; init; }
    /// <summary>Null: <see cref="DefaultValidationFraction"/>, or more (up to <see cref="LargestDefaultValidationFraction"/>) when the budget needs more rows to be certified (<see cref="ValidationFractionFor"/>).</summary>
    public double? ValidationFraction { get; init; }
    /// <summary>One-sided confidence of the paired bound a candidate's drop must keep within the budget (as Invoke-Pruning's).</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>Null: <see cref="DefaultEpochs"/>, more on a small data set (<see cref="EpochsFor"/>).</summary>
    public int? Epochs { get; init; }
    public int FineTuneEpochs { get; init; } = DefaultFineTuneEpochs;
    /// <summary>Rows per batch of the candidates' training.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Rows per forward pass when latency is the objective.</summary>
    public int LatencyBatchSize { get; init; } = DefaultLatencyBatchSize;
    public int? Seed { get; init; }

    /// <summary>Checks the options against the model and data (what -WhatIf must refuse too); the model is not changed.</summary>
    public void Validate(Mlp model, Dataset? data)
    {
        BudgetLimit.Check(model, MaxAccuracyDrop, MaxLossIncrease);
        if (TimeLimit is { } t && !(t > TimeSpan.Zero))
            throw SparsePruneException.Argument("InvalidTimeLimit", $"-TimeLimit must be longer than zero (e.g. 00:20:00 for twenty minutes); got {t}.");
        if (ValidationFraction is { } vf && !(vf > 0 && vf < 1))
            throw SparsePruneException.Argument("InvalidValidationFraction", $"-ValidationFraction must be above 0 and below 1 (0.1 holds out 10 % of the training rows); got {F(vf)}.");
        if (!(Confidence >= PairedBound.MinConfidence && Confidence <= PairedBound.MaxConfidence))
            throw SparsePruneException.Argument("InvalidConfidence", $"-Confidence is the one-sided confidence that a candidate stays within the budget, from 0.5 (the measured drop alone) to 0.9999; got {F(Confidence)}.");
        if (Epochs is < 1) throw SparsePruneException.Argument("InvalidEpochs", $"-Epochs must be at least 1; got {Epochs}.");
        if (FineTuneEpochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {FineTuneEpochs}.");
        if (BatchSize < 1) throw SparsePruneException.Argument("InvalidBatchSize", $"-BatchSize must be at least 1; got {BatchSize}.");
        KernelTuner.ValidateBatchSizes(new[] { LatencyBatchSize });
        if (model.State.Any(l => l.Quantization is not null))
            throw SparsePruneException.Argument("ModelAlreadyQuantized",
                $"Model '{model.Name}' is already quantized; Compress-Mlp starts from a float model (quantized weights cannot be pruned further). Give it the model from before Invoke-Quantization, or its file (Import-Mlp).");
        if (model.State.Any(l => l.Keep is not null))
            throw SparsePruneException.Argument("ModelMasked",
                $"Model '{model.Name}' has a Set-Sparsity mask; Compress-Mlp chooses the sparsity itself. Give it the model from before Set-Sparsity, or remove the mask (Set-Sparsity -Sparsity 0).");
        if (data is null)
            throw SparsePruneException.Argument("NoDataset", $"Compress-Mlp trains and judges candidates on data: model '{model.Name}' has not been trained on a data set, so give -Dataset (e.g. -Dataset (Get-Dataset Digits)).");
        ModelInputs.CheckCompatible(model, data);
        if (data.TrainCount < 4)
            throw SparsePruneException.BadData("TooFewRows", $"The data set '{data.Name}' has {data.TrainCount} training rows; Compress-Mlp trains on some and judges on the others, so it needs more.");
        if (Teacher is { } teacher) new DistillationOptions { Teacher = teacher }.Validate(model);
    }

    /// <summary>
    /// The share of <paramref name="trainRows"/> training rows held out: as given, else 0.1, or
    /// as much more (up to half) as an accuracy budget needs rows for the paired bound to certify
    /// it (PairedBound.RowsNeeded): Digits' 1,437 rows give a one-point budget 144 validation rows
    /// at 0.1, where one row is worth 0.7 points and nothing can be certified.
    /// </summary>
    public double ValidationFractionFor(int trainRows)
    {
        if (ValidationFraction is { } given) return given;
        if (MaxAccuracyDrop is not { } drop || trainRows <= 0) return DefaultValidationFraction;
        double needed = (double)PairedBound.RowsNeeded(drop, Confidence) / trainRows;
        return Math.Clamp(Math.Ceiling(needed * 100) / 100, DefaultValidationFraction, LargestDefaultValidationFraction);
    }

    /// <summary>The epochs of a pruning candidate: as given, else <see cref="DefaultEpochs"/> or enough for <see cref="MinimumSteps"/> steps.</summary>
    public int EpochsFor(int stepsPerEpoch) => Epochs ?? Math.Max(DefaultEpochs, (MinimumSteps + stepsPerEpoch - 1) / Math.Max(1, stepsPerEpoch));

    /// <summary>The distillation of every candidate's training: from <see cref="Teacher"/>, or none.</summary>
    internal DistillationOptions? Distillation() => Teacher is { } t ? new DistillationOptions { Teacher = t } : null;

    /// <summary>The budget as one line (history, -WhatIf).</summary>
    public string DescribeBudget() => MaxAccuracyDrop is { } d
        ? $"validation accuracy drops at most {F(d)}"
        : $"validation loss rises at most {F(MaxLossIncrease ?? 0)}";

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
