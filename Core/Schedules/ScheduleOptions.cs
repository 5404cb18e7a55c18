using System.Globalization;

namespace SparsePrune;

/// <summary>How Invoke-Pruning reaches its target: in one step, in rounds, during training, or as a lottery ticket.</summary>
public sealed record ScheduleOptions
{
    public PruneSchedule Schedule { get; init; } = PruneSchedule.OneShot;
    /// <summary>Iterative and LotteryTicket: rounds.</summary>
    public int Steps { get; init; } = 3;
    /// <summary>Gradual: epochs of training during which the target rises and then holds.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Gradual: optimizer steps between target updates.</summary>
    public int UpdateEvery { get; init; } = 100;
    /// <summary>Gradual: share of the steps over which the target rises (then it holds).</summary>
    public double RampFraction { get; init; } = 0.75;
    /// <summary>LotteryTicket: survivors go back to their values after this epoch of the first training (0: initialization).</summary>
    public int RewindEpoch { get; init; }
    /// <summary>RigL: α₀, the fraction of each layer's present weights dropped and regrown at the first update (decaying by cosine to 0).</summary>
    public double RegrowFraction { get; init; } = 0.3;
    /// <summary>Gradual: drop and regrow as RigL does at every target update, masking instead of deleting until the end.</summary>
    public bool Regrow { get; init; }
    /// <summary>True when the schedule drops and regrows weights (RigL, or Gradual with <see cref="Regrow"/>).</summary>
    public bool Regrows => Schedule == PruneSchedule.RigL || (Schedule == PruneSchedule.Gradual && Regrow);
    /// <summary>Iterative: retrain each round with the first training's learning-rate schedule, from its start.</summary>
    public RewindMode Rewind { get; init; }
    /// <summary>Epochs of training after each round (Iterative, LotteryTicket) or after the step (OneShot, Gradual).</summary>
    public int FineTuneEpochs { get; init; }
    /// <summary>Learning rate, batch size, optimizer, learning-rate schedule and seed of the training the schedule does.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>The settings the history records (its ToString is the -WhatIf text).</summary>
    public HistorySettings Describe()
    {
        var settings = new HistorySettings().Add(nameof(Schedule), Schedule);
        return Schedule switch
        {
            PruneSchedule.Iterative => settings.Add(nameof(Steps), Steps).Add(nameof(FineTuneEpochs), FineTuneEpochs).Add(nameof(Rewind), Rewind == RewindMode.None ? null : Rewind),
            PruneSchedule.LotteryTicket => settings.Add(nameof(Steps), Steps).Add(nameof(RewindEpoch), RewindEpoch).Add(nameof(FineTuneEpochs), FineTuneEpochs),
            PruneSchedule.Gradual => settings.Add(nameof(Epochs), Epochs).Add(nameof(UpdateEvery), UpdateEvery).Add(nameof(RampFraction), RampFraction)
                .Add(nameof(Regrow), Regrow ? true : null).Add(nameof(RegrowFraction), Regrow ? RegrowFraction : null).Add(nameof(FineTuneEpochs), FineTuneEpochs),
            PruneSchedule.RigL => settings.Add(nameof(Epochs), Epochs).Add(nameof(UpdateEvery), UpdateEvery).Add(nameof(RampFraction), RampFraction)
                .Add(nameof(RegrowFraction), RegrowFraction).Add(nameof(FineTuneEpochs), FineTuneEpochs),
            _ => settings.Add(nameof(FineTuneEpochs), FineTuneEpochs),
        };
    }

    /// <summary>
    /// What of this schedule and <paramref name="request"/> needs a data set (null: nothing):
    /// the one rule for when data is needed, used by the cmdlet's check and the schedule's own.
    /// </summary>
    public string? DataNeededFor(PruningRequest request) =>
        ImportanceCriterion.ScoresFromData(request.Criterion) ? $"-Criterion {request.Criterion}"
        : Schedule is PruneSchedule.Gradual or PruneSchedule.RigL ? $"-Schedule {Schedule}"
        : FineTuneEpochs > 0 ? "-FineTuneEpochs"
        : Rewind != RewindMode.None ? "-Rewind"
        : Schedule == PruneSchedule.LotteryTicket && RewindEpoch > 0 ? "-RewindEpoch"
        : null;

    public void Validate(PruningRequest request)
    {
        if (Schedule != PruneSchedule.OneShot && request.Structure == PruneStructure.NM)
            throw SparsePruneException.Argument("ScheduleNeedsRatio", $"-Schedule {Schedule} raises a -Ratio target step by step; -Structure NM has a fixed pattern instead. Use -Schedule OneShot with NM.");
        if (Steps < 1 || Steps > 1000) throw SparsePruneException.Argument("InvalidSteps", $"-Steps must be between 1 and 1000; got {Steps}.");
        if (Epochs < 1) throw SparsePruneException.Argument("InvalidEpochs", $"-Epochs must be at least 1; got {Epochs}.");
        if (UpdateEvery < 1) throw SparsePruneException.Argument("InvalidUpdateEvery", $"-UpdateEvery must be at least 1 optimizer step; got {UpdateEvery}.");
        if (!(RampFraction > 0 && RampFraction <= 1)) throw SparsePruneException.Argument("InvalidRampFraction", $"-RampFraction must be above 0 and at most 1; got {RampFraction.ToString(CultureInfo.InvariantCulture)}.");
        if (!(RegrowFraction > 0 && RegrowFraction <= 1)) throw SparsePruneException.Argument("InvalidRegrowFraction", $"-RegrowFraction must be above 0 and at most 1 (0.3 moves 30 % of each layer's weights at the first update); got {RegrowFraction.ToString(CultureInfo.InvariantCulture)}.");
        string regrowing = Schedule == PruneSchedule.RigL ? "-Schedule RigL" : "-Schedule Gradual -Regrow";
        if (Regrows && request.Structure != PruneStructure.Connection)
            throw SparsePruneException.Argument("ScheduleNeedsConnections", $"{regrowing} drops and regrows single connections; -Structure {request.Structure} removes whole units. Use -Structure Connection, or -Schedule Gradual without -Regrow for neurons.");
        if (Regrows && request.Scope == PruneScope.Global)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"{regrowing} keeps each layer's count of weights constant while it regrows: give -Scope ERK or Layer, not Global.");
        if (Regrows && request.Criterion != PruneCriterion.L1)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"{regrowing} drops the smallest weights by magnitude and regrows by gradient; -Criterion {request.Criterion} does not apply. Leave it out.");
        if (RewindEpoch < 0) throw SparsePruneException.Argument("InvalidRewindEpoch", $"-RewindEpoch must be 0 (initialization) or a later epoch of the first training; got {RewindEpoch}.");
        if (FineTuneEpochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {FineTuneEpochs}.");
        Training.Validate();
    }
}
