using System.Globalization;

namespace SparsePrune;

/// <summary>
/// Everything Invoke-Pruning can be told, exactly as given: null means "not given". Every
/// default and every "does not apply" rule lives here, once, in <see cref="Resolve"/>; the
/// cmdlet only binds parameters. (A value compared against a copy of a default cannot tell
/// -Steps 3 given with -Schedule OneShot from no -Steps at all; null can.)
/// </summary>
public sealed record PruningSettings
{
    public double? Ratio { get; init; }
    public PruneStructure? Structure { get; init; }
    public PruneCriterion? Criterion { get; init; }
    public PruneScope? Scope { get; init; }
    public PruneSchedule? Schedule { get; init; }
    public int? Steps { get; init; }
    public int? Epochs { get; init; }
    public int? UpdateEvery { get; init; }
    public double? RampFraction { get; init; }
    public int? RewindEpoch { get; init; }
    public double? MaxLayerSparsity { get; init; }
    public int[]? Layers { get; init; }
    /// <summary>N:M as text, e.g. "2:4" (or <see cref="N"/> and <see cref="M"/>).</summary>
    public string? Pattern { get; init; }
    public int? N { get; init; }
    public int? M { get; init; }
    public int? FineTuneEpochs { get; init; }
    public double? FineTuneLearningRate { get; init; }
    public LearningRateSchedule? LearningRateSchedule { get; init; }
    public int? BatchSize { get; init; }
    public double? MaxAccuracyDrop { get; init; }
    public double? MaxLossIncrease { get; init; }
    public double? ValidationFraction { get; init; }
    /// <summary>The one-sided confidence of the bound a budget's tries are judged by (BudgetOptions.Confidence).</summary>
    public double? Confidence { get; init; }
    public int? Seed { get; init; }
    public RewindMode? Rewind { get; init; }
    public double? RegrowFraction { get; init; }
    /// <summary>-Schedule Gradual -Regrow: true when given.</summary>
    public bool? Regrow { get; init; }
    /// <summary>Distillation in every training the job does (fine-tuning, Gradual, rounds, the budget search's).</summary>
    public Mlp? Teacher { get; init; }
    public double? Temperature { get; init; }
    public double? DistillationWeight { get; init; }

    /// <summary>Checks which settings combine, fills in the defaults and returns the job to run.</summary>
    public PruningJob Resolve()
    {
        var structure = Structure ?? PruneStructure.Connection;
        var schedule = Schedule ?? PruneSchedule.OneShot;
        // RigL starts at the target with ERK allocation unless told otherwise.
        var scope = Scope ?? (schedule == PruneSchedule.RigL ? PruneScope.ERK : PruneScope.Layer);
        var criterion = Criterion ?? PruneCriterion.L1;
        bool budget = MaxAccuracyDrop is not null || MaxLossIncrease is not null;
        bool pattern = !PrunableStructure.For(structure).HasRatio;
        int fineTune = FineTuneEpochs ?? 0;

        if (!pattern && (Pattern is not null || N is not null || M is not null))
            NotApplicable($"-N, -M and -Pattern apply to -Structure NM; with -Structure {structure} give -Ratio only.");
        if (!pattern && Ratio is null && !budget)
            throw SparsePruneException.Argument("RatioRequired", $"-Structure {structure} needs -Ratio: the fraction of the baseline to delete, e.g. -Ratio 0.3 (or a budget: -MaxAccuracyDrop 0.01).");
        if (pattern && (Ratio is not null || scope != PruneScope.Layer))
            NotApplicable("-Structure NM keeps N of every M weights in every layer: leave out -Ratio and -Scope, and give the pattern with -N and -M (e.g. -N 2 -M 4) or -Pattern 2:4.");
        if (Pattern is not null && (N is not null || M is not null))
            NotApplicable("Give the N:M pattern once: -N and -M, or -Pattern.");
        bool trainsWhilePruning = schedule is PruneSchedule.Gradual or PruneSchedule.RigL;
        if (fineTune == 0 && FineTuneLearningRate is not null && !trainsWhilePruning)
            NotApplicable("-FineTuneLearningRate applies to fine-tuning: give -FineTuneEpochs too.");
        if (scope != PruneScope.Global && MaxLayerSparsity is not null)
            NotApplicable("-MaxLayerSparsity caps what global ranking takes from one layer: give it with -Scope Global.");
        if (schedule is not (PruneSchedule.Iterative or PruneSchedule.LotteryTicket) && Steps is not null)
            NotApplicable($"-Steps counts the rounds of -Schedule Iterative or LotteryTicket, not of -Schedule {schedule}.");
        if (!trainsWhilePruning && (Epochs is not null || UpdateEvery is not null || RampFraction is not null))
            NotApplicable("-Epochs, -UpdateEvery and -RampFraction shape -Schedule Gradual and RigL; other schedules fine-tune with -FineTuneEpochs.");
        if (budget && schedule == PruneSchedule.RigL)
            NotApplicable("-Schedule RigL trains at one target from the start; an accuracy budget searches for the target. Use -Schedule Gradual with a budget, or give RigL a -Ratio.");
        bool regrow = Regrow ?? false;
        if (regrow && schedule != PruneSchedule.Gradual)
            NotApplicable(schedule == PruneSchedule.RigL ? "-Schedule RigL always drops and regrows: leave out -Regrow." : $"-Regrow adds drop-and-regrow to -Schedule Gradual's target updates, not to -Schedule {schedule}.");
        if (schedule != PruneSchedule.RigL && !regrow && RegrowFraction is not null)
            NotApplicable("-RegrowFraction applies to -Schedule RigL and -Schedule Gradual -Regrow.");
        if (Rewind is { } rewind && rewind != RewindMode.None && schedule != PruneSchedule.Iterative)
            NotApplicable($"-Rewind {rewind} restarts the retraining of each round of -Schedule Iterative; -Schedule LotteryTicket rewinds weights (-RewindEpoch).");
        if (Rewind == RewindMode.LearningRate && (FineTuneLearningRate is not null || LearningRateSchedule is not null))
            NotApplicable("-Rewind LearningRate takes the learning rate and its schedule from the model's first training: leave out -FineTuneLearningRate and -LearningRateSchedule.");
        if (schedule != PruneSchedule.LotteryTicket && RewindEpoch is not null)
            NotApplicable("-RewindEpoch applies to -Schedule LotteryTicket.");
        if (MaxAccuracyDrop is not null && MaxLossIncrease is not null)
            NotApplicable("Give one budget: -MaxAccuracyDrop (classification) or -MaxLossIncrease (regression).");
        if (!budget && ValidationFraction is not null)
            NotApplicable("-ValidationFraction sets the split an accuracy budget is judged on: give -MaxAccuracyDrop or -MaxLossIncrease too.");
        if (!budget && Confidence is not null)
            NotApplicable("-Confidence sets how sure an accuracy budget must be of each try: give -MaxAccuracyDrop or -MaxLossIncrease too.");
        if (fineTune < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {fineTune}.");
        var distillation = DistillationOptions.From(Teacher, Temperature, DistillationWeight);
        if (distillation is not null && fineTune == 0 && !trainsWhilePruning && Rewind != RewindMode.LearningRate)
            NotApplicable("-Teacher distils into the training pruning does: give -FineTuneEpochs (or -Schedule Gradual).");

        var (keepN, groupM) = NMPattern();
        int batchSize = BatchSize ?? new TrainingOptions().BatchSize;
        var request = new PruningRequest
        {
            Ratio = Ratio ?? 0, Structure = structure, Criterion = criterion, Scope = scope, Seed = Seed,
            KeepN = keepN, GroupM = groupM, Layers = Layers, MaxLayerSparsity = MaxLayerSparsity,
            ScoringBatchSize = batchSize,
        };
        var training = new TrainingOptions
        {
            LearningRate = FineTuneLearningRate, Seed = Seed, BatchSize = batchSize,
            LearningRateSchedule = LearningRateSchedule ?? SparsePrune.LearningRateSchedule.Constant,
            Distillation = distillation,
        };
        var scheduleDefaults = new ScheduleOptions();
        var options = new ScheduleOptions
        {
            Schedule = schedule, Steps = Steps ?? scheduleDefaults.Steps, Epochs = Epochs ?? scheduleDefaults.Epochs,
            UpdateEvery = UpdateEvery ?? scheduleDefaults.UpdateEvery, RampFraction = RampFraction ?? scheduleDefaults.RampFraction,
            RewindEpoch = RewindEpoch ?? 0, FineTuneEpochs = fineTune, Training = training, Rewind = Rewind ?? RewindMode.None,
            RegrowFraction = RegrowFraction ?? scheduleDefaults.RegrowFraction, Regrow = regrow,
        };
        options.Validate(request);
        var budgetOptions = budget
            ? new BudgetOptions { MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, ValidationFraction = ValidationFraction,
                Confidence = Confidence ?? new BudgetOptions().Confidence, Seed = Seed }
            : null;
        string? dataFor = budget ? "An accuracy budget" : options.DataNeededFor(request);
        return new PruningJob(request, options, budgetOptions, dataFor);
    }

    /// <summary>The N:M pattern from -N/-M or -Pattern (2:4 when neither is given).</summary>
    private (int N, int M) NMPattern()
    {
        var defaults = new PruningRequest();
        if (N is not null || M is not null) return (N ?? defaults.KeepN, M ?? defaults.GroupM);
        if (Pattern is null) return (defaults.KeepN, defaults.GroupM);
        var parts = Pattern.Split(':');
        if (parts.Length == 2
            && int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int m))
            return (n, m);
        throw SparsePruneException.Argument("InvalidNMPattern", $"-Pattern '{Pattern}' is not N:M with 1 <= N < M <= 1024 (e.g. 2:4).");
    }

    private static void NotApplicable(string message) => throw SparsePruneException.Argument("ParameterNotApplicable", message);
}
