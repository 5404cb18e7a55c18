using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Pruning: deletes connections or neurons (not reversible) on a schedule, optionally within an accuracy budget.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Pruning", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RatioSet)]
[OutputType(typeof(Mlp))]
public sealed class InvokePruningCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

    // What combines, as Get-Help shows it: a ratio target (on a schedule), an N:M pattern, or a
    // budget (a ratio, if given, is the top of the range searched). Rules the binder cannot
    // express live in Core (PruningSettings.Resolve).
    private const string RatioSet = "Ratio";
    private const string PatternSet = "Pattern";
    private const string BudgetSet = "Budget";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Target fraction of the scope's baseline weights (Connection) or hidden neurons (Neuron) deleted.</summary>
    [Parameter(Position = 0, ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public double? Ratio { get; set; }

    [Parameter] public PruneStructure? Structure { get; set; }
    [Parameter, CriterionName] public PruneCriterion? Criterion { get; set; }
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public PruneScope? Scope { get; set; }

    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public PruneSchedule? Schedule { get; set; }

    /// <summary>Iterative and LotteryTicket: rounds.</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public int? Steps { get; set; }

    /// <summary>Gradual: epochs of training while the target rises and holds.</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public int? Epochs { get; set; }

    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public int? UpdateEvery { get; set; }

    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public double? RampFraction { get; set; }

    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public int? RewindEpoch { get; set; }

    /// <summary>RigL: the fraction of each layer's weights dropped and regrown at the first update (decaying to 0).</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public double? RegrowFraction { get; set; }

    /// <summary>Gradual: drop and regrow at every target update (masking until the end instead of deleting as it goes).</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public SwitchParameter Regrow { get; set; }

    /// <summary>Iterative: LearningRate retrains each round with the first training's learning-rate schedule, from its start.</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public RewindMode? Rewind { get; set; }

    /// <summary>Global scope: no layer loses more than this fraction of its baseline (default: Core's, rising with the target).</summary>
    [Parameter(ParameterSetName = RatioSet)]
    [Parameter(ParameterSetName = BudgetSet)]
    public double? MaxLayerSparsity { get; set; }

    /// <summary>Layers in scope (default all; Neuron: hidden layers).</summary>
    [Parameter] public int[]? Layer { get; set; }

    /// <summary>N:M pattern for -Structure NM: keep N of every M consecutive weights.</summary>
    [Parameter(ParameterSetName = PatternSet)]
    [ValidatePattern(@"^\s*\d+\s*:\s*\d+\s*$")]
    public string? Pattern { get; set; }

    /// <summary>-Structure NM: weights kept in every group.</summary>
    [Parameter(ParameterSetName = PatternSet)] public int? N { get; set; }
    /// <summary>-Structure NM: group size along each row's inputs.</summary>
    [Parameter(ParameterSetName = PatternSet)] public int? M { get; set; }

    [Parameter] public int? FineTuneEpochs { get; set; }
    [Parameter] public double? FineTuneLearningRate { get; set; }
    [Parameter] public LearningRateSchedule? LearningRateSchedule { get; set; }
    /// <summary>Batch size of fine-tuning, gradual training and Taylor scoring.</summary>
    [Parameter] public int? BatchSize { get; set; }

    /// <summary>Accuracy budget: prune as far as the validation accuracy drops at most this much (0.01 = one point).</summary>
    [Parameter(ParameterSetName = BudgetSet)] public double? MaxAccuracyDrop { get; set; }
    /// <summary>Loss budget (regression): the validation loss rises at most this fraction (0.1 = 10 %).</summary>
    [Parameter(ParameterSetName = BudgetSet)] public double? MaxLossIncrease { get; set; }
    [Parameter(ParameterSetName = BudgetSet)] public double? ValidationFraction { get; set; }
    /// <summary>Budget: the one-sided confidence that each accepted try keeps within the budget on rows like the validation rows (0.95; 0.5 judges the measured drop alone).</summary>
    [Parameter(ParameterSetName = BudgetSet)] public double? Confidence { get; set; }

    [Parameter] public Dataset? Dataset { get; set; }
    [Parameter] public int? Seed { get; set; }

    /// <summary>A model whose outputs the training of this pruning also matches (knowledge distillation); read, never changed.</summary>
    [Parameter] public Mlp? Teacher { get; set; }
    /// <summary>Distillation: the softening temperature T.</summary>
    [Parameter] public double? Temperature { get; set; }
    /// <summary>Distillation: the teacher term's weight α, 0..1.</summary>
    [Parameter] public double? DistillationWeight { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns every default and every "does not apply" rule.
        var settings = new PruningSettings
        {
            Ratio = Ratio, Structure = Structure, Criterion = Criterion, Scope = Scope, Schedule = Schedule, Steps = Steps,
            Epochs = Epochs, UpdateEvery = UpdateEvery, RampFraction = RampFraction, RewindEpoch = RewindEpoch, Rewind = Rewind, RegrowFraction = RegrowFraction,
            Regrow = Regrow.IsPresent ? true : null,
            MaxLayerSparsity = MaxLayerSparsity, Layers = Layer, Pattern = Pattern, N = N, M = M, FineTuneEpochs = FineTuneEpochs,
            FineTuneLearningRate = FineTuneLearningRate, LearningRateSchedule = LearningRateSchedule, BatchSize = BatchSize,
            MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, ValidationFraction = ValidationFraction, Confidence = Confidence, Seed = Seed,
            Teacher = Teacher, Temperature = Temperature, DistillationWeight = DistillationWeight,
        };
        var job = Guard(Model, settings.Resolve);
        var (request, schedule) = (job.Request, job.Schedule);
        var data = job.DataNeededFor is { } purpose ? RequireDataset(Model, Dataset, purpose) : DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => ModelInputs.CheckCompatible(Model, data));

        if (job.Budget is { } budget) { RunBudget(request, schedule, budget, data!); return; }
        if (schedule.Schedule != PruneSchedule.OneShot) { RunSchedule(request, schedule, data); return; }

        using var plan = Guard(Model, () => Pruner.Plan(Model, request, data, StopToken));
        var description = $"Prune ({request.Describe()}) model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()))
            + (schedule.FineTuneEpochs > 0 ? $"{Environment.NewLine}  then fine-tune {schedule.FineTuneEpochs} epoch(s) on '{data!.Name}'" : "");
        if (!ShouldProcess(description, $"Delete {plan.Deleting} weight(s) and {plan.NeuronsRemoving} neuron(s) of model '{Model.Name}'? This cannot be undone.", "Invoke-Pruning"))
            return;
        WarnIfBaselineHasNoMetric(Model, data);
        if (plan.TargetMet)
            WriteWarning($"The pruning target of model '{Model.Name}' ({request.Describe()}) is already met: nothing was deleted.");
        var activity = $"Fine-tuning '{Model.Name}'";
        var result = RunWithProgress(activity, Model, progress => Pruner.Apply(Model, plan, data, schedule.FineTuneEpochs, schedule.Training, progress, StopToken));
        WriteVerbose(description);
        if (Pruner.CapNote(plan) is { } capNote) WriteWarning(capNote + ".");
        if (result is { Stopped: true })
        {
            WriteWarning($"Fine-tuning {result.StopNote}; the pruning itself is kept.");
            return;
        }
        WriteObject(Model);
    }

    private void RunSchedule(PruningRequest request, ScheduleOptions schedule, Dataset? data)
    {
        // The final target planned from the weights as they are: it checks the request before
        // -WhatIf or -Confirm promise anything, and previews where the schedule ends (the weights
        // a schedule finally deletes depend on the training between its steps).
        using var plan = Guard(Model, () => Pruner.Plan(Model, request, data, StopToken));
        var description = $"Prune ({request.Describe()} {schedule.Describe()}) model '{Model.Name}' to {request.Ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)} of its baseline"
            + (data is not null && (schedule.FineTuneEpochs > 0 || schedule.Schedule is PruneSchedule.Gradual or PruneSchedule.RigL) ? $", training on '{data.Name}'" : "")
            + $"; from the weights as they are now the final target would change:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()));
        if (!ShouldProcess(description, $"{description}? This cannot be undone.", "Invoke-Pruning")) return;
        WarnIfBaselineHasNoMetric(Model, data);
        var activity = $"Pruning '{Model.Name}' ({schedule.Schedule})";
        var result = RunWithProgress(activity, Model, progress => PruningScheduler.Run(Model, request, schedule, data, progress, StopToken));
        WriteVerbose($"{description}: targets {string.Join(", ", result.Targets.Select(t => t.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}.");
        if (result.CapNote is { } capNote) WriteWarning(capNote + ".");
        if (result.Stopped)
        {
            WriteWarning($"Pruning stopped: {result.StopNote}; what was done is kept.");
            return;
        }
        WriteObject(Model);
    }

    private void RunBudget(PruningRequest request, ScheduleOptions schedule, BudgetOptions options, Dataset data)
    {
        Guard(Model, () => BudgetSearch.Validate(Model, request, schedule, options));
        var limit = (options.MaxAccuracyDrop is { } d ? $"validation accuracy drops at most {d:0.####}" : $"validation loss rises at most {options.MaxLossIncrease:P1}")
            + (options.Confidence == PairedBound.MinConfidence ? " as measured" : $" with {options.Confidence:0.####} confidence");
        var description = $"Prune model '{Model.Name}' ({request.Structure}, {request.Scope}, {schedule.Schedule}) as far as its {limit} (validation: {options.ValidationFractionFor(schedule):P0} of the training split of '{data.Name}')";
        if (!ShouldProcess(description, $"{description}? This cannot be undone.", "Invoke-Pruning")) return;
        var activity = $"Pruning '{Model.Name}' within a budget";
        // Warnings come as the search finds them (a split too small for the budget is known before the first try).
        var result = RunWithProgress(activity, Model, progress => BudgetSearch.Run(Model, request, schedule, data, options, progress, StopToken, CoreWriter(WriteWarning)));
        WriteVerbose($"{description}: chose ratio {result.ChosenRatio:0.####} after {result.Probes.Count} tries; validation {result.MetricName} {result.BaselineMetric:0.####} -> {result.Metric:0.####} "
            + $"on {result.ValidationRows} rows, each try judged by a {result.Confidence:0.####} one-sided bound (resolution {result.Resolution:0.####}).");
        WriteObject(Model);
    }
}
