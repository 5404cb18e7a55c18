using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Pruning: deletes connections or neurons (not reversible) on a schedule, optionally within an accuracy budget.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Pruning", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Mlp))]
public sealed class InvokePruningCommand : SparsePruneCmdlet
{
    private const double DefaultMaxLayerSparsity = 0.98;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Target fraction of the scope's baseline weights (Connection) or hidden neurons (Neuron) deleted.</summary>
    [Parameter(Position = 0)]
    public double? Ratio { get; set; }

    [Parameter] public PruneStructure Structure { get; set; } = PruneStructure.Connection;
    [Parameter] public PruneCriterion Criterion { get; set; } = PruneCriterion.L1;
    [Parameter] public PruneScope Scope { get; set; } = PruneScope.Layer;
    [Parameter] public PruneSchedule Schedule { get; set; } = PruneSchedule.OneShot;

    /// <summary>Iterative and LotteryTicket: rounds.</summary>
    [Parameter] public int Steps { get; set; } = 3;
    /// <summary>Gradual: epochs of training while the target rises and holds.</summary>
    [Parameter] public int Epochs { get; set; } = 10;
    [Parameter] public int UpdateEvery { get; set; } = 100;
    [Parameter] public double RampFraction { get; set; } = 0.75;
    [Parameter] public int RewindEpoch { get; set; }

    /// <summary>Global scope: no layer loses more than this fraction of its baseline.</summary>
    [Parameter] public double MaxLayerSparsity { get; set; } = DefaultMaxLayerSparsity;

    /// <summary>Layers in scope (default all; Neuron: hidden layers).</summary>
    [Parameter] public int[]? Layer { get; set; }

    /// <summary>N:M pattern for -Structure NM: keep N of every M consecutive weights (default 2:4).</summary>
    [Parameter]
    [ValidatePattern(@"^\s*\d+\s*:\s*\d+\s*$")]
    public string Pattern { get; set; } = "2:4";

    /// <summary>-Structure NM: weights kept in every group (default 2).</summary>
    [Parameter] public int? N { get; set; }
    /// <summary>-Structure NM: group size along each row's inputs (default 4).</summary>
    [Parameter] public int? M { get; set; }

    [Parameter] public int FineTuneEpochs { get; set; }
    [Parameter] public double? FineTuneLearningRate { get; set; }
    [Parameter] public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.Constant;
    /// <summary>Batch size of fine-tuning, gradual training and Taylor scoring.</summary>
    [Parameter] public int BatchSize { get; set; } = 64;

    /// <summary>Accuracy budget: prune as far as the validation accuracy drops at most this much (0.01 = one point).</summary>
    [Parameter] public double? MaxAccuracyDrop { get; set; }
    /// <summary>Loss budget (regression): the validation loss rises at most this fraction (0.1 = 10 %).</summary>
    [Parameter] public double? MaxLossIncrease { get; set; }
    [Parameter] public double ValidationFraction { get; set; } = 0.1;

    [Parameter] public Dataset? Dataset { get; set; }
    [Parameter] public int? Seed { get; set; }

    protected override void ProcessRecord()
    {
        bool budget = MaxAccuracyDrop is not null || MaxLossIncrease is not null;
        // Values, not bound names: $null or a $PSDefaultParameterValues default that changes nothing is no conflict.
        if (Structure != PruneStructure.NM && Ratio is null && !budget)
            Fail("RatioRequired", ErrorKind.InvalidArgument, $"-Structure {Structure} needs -Ratio: the fraction of the baseline to delete, e.g. -Ratio 0.3 (or a budget: -MaxAccuracyDrop 0.01).", Model);
        if (Structure == PruneStructure.NM && (Ratio is not null || Scope != PruneScope.Layer))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-Structure NM keeps N of every M weights in every layer: leave out -Ratio and -Scope, and give the pattern with -N and -M (e.g. -N 2 -M 4) or -Pattern 2:4.", Model);
        if (Structure != PruneStructure.NM && (Pattern.Replace(" ", "") != "2:4" || N is not null || M is not null))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"-N, -M and -Pattern apply to -Structure NM; with -Structure {Structure} give -Ratio only.", Model);
        if (Pattern.Replace(" ", "") != "2:4" && (N is not null || M is not null))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "Give the N:M pattern once: -N and -M, or -Pattern.", Model);
        if (FineTuneEpochs == 0 && FineTuneLearningRate is not null && Schedule != PruneSchedule.Gradual)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-FineTuneLearningRate applies to fine-tuning: give -FineTuneEpochs too.", Model);
        if (Scope != PruneScope.Global && MaxLayerSparsity != DefaultMaxLayerSparsity)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-MaxLayerSparsity caps what global ranking takes from one layer: give it with -Scope Global.", Model);
        if (Schedule is not (PruneSchedule.Iterative or PruneSchedule.LotteryTicket) && Steps != 3)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-Steps counts the rounds of -Schedule Iterative or LotteryTicket.", Model);
        if (Schedule != PruneSchedule.Gradual && (Epochs != 10 || UpdateEvery != 100 || RampFraction != 0.75))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-Epochs, -UpdateEvery and -RampFraction shape -Schedule Gradual; other schedules fine-tune with -FineTuneEpochs.", Model);
        if (Schedule != PruneSchedule.LotteryTicket && RewindEpoch != 0)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-RewindEpoch applies to -Schedule LotteryTicket.", Model);
        if (MaxAccuracyDrop is not null && MaxLossIncrease is not null)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "Give one budget: -MaxAccuracyDrop (classification) or -MaxLossIncrease (regression).", Model);
        if (!budget && ValidationFraction != 0.1)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-ValidationFraction sets the split an accuracy budget is judged on: give -MaxAccuracyDrop or -MaxLossIncrease too.", Model);
        if (FineTuneEpochs < 0) Fail("InvalidEpochs", ErrorKind.InvalidArgument, $"-FineTuneEpochs must be 0 or more; got {FineTuneEpochs}.", Model);

        int keepN = N ?? 2, groupM = M ?? 4;
        if (N is null && M is null)
        {
            var parts = Pattern.Split(':');
            if (!int.TryParse(parts[0].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out keepN)
                || !int.TryParse(parts[1].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out groupM))
            {
                Fail("InvalidNMPattern", ErrorKind.InvalidArgument, $"-Pattern '{Pattern}' is not N:M with 1 <= N < M <= 1024 (e.g. 2:4).", Pattern);
                return;
            }
        }
        var request = new PruningRequest
        {
            Ratio = Ratio ?? 0, Structure = Structure, Criterion = Criterion, Scope = Scope, Seed = Seed,
            KeepN = keepN, GroupM = groupM, Layers = Layer, ScoringBatchSize = BatchSize,
            MaxLayerSparsity = Scope == PruneScope.Global ? MaxLayerSparsity : null,
        };
        var training = new TrainingOptions { LearningRate = FineTuneLearningRate, Seed = Seed, BatchSize = BatchSize, LearningRateSchedule = LearningRateSchedule };
        var schedule = new ScheduleOptions
        {
            Schedule = Schedule, Steps = Steps, Epochs = Epochs, UpdateEvery = UpdateEvery, RampFraction = RampFraction,
            RewindEpoch = RewindEpoch, FineTuneEpochs = FineTuneEpochs, Training = training,
        };
        bool needsData = budget || FineTuneEpochs > 0 || Schedule == PruneSchedule.Gradual || Criterion == PruneCriterion.Taylor
            || (Schedule == PruneSchedule.LotteryTicket && RewindEpoch > 0);
        var data = needsData ? RequireDataset(Model, Dataset, budget ? "An accuracy budget" : Criterion == PruneCriterion.Taylor ? "-Criterion Taylor" : Schedule == PruneSchedule.Gradual ? "-Schedule Gradual" : "-FineTuneEpochs") : DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => Evaluator.CheckCompatible(Model, data));
        Guard(Model, () => { schedule.Validate(request); });

        if (budget) { RunBudget(request, schedule, data!); return; }
        if (Schedule != PruneSchedule.OneShot) { RunSchedule(request, schedule, data); return; }

        using var plan = Guard(Model, () => Pruner.Plan(Model, request, data));
        var description = $"Prune ({request.Describe()}) model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()))
            + (FineTuneEpochs > 0 ? $"{Environment.NewLine}  then fine-tune {FineTuneEpochs} epoch(s) on '{data!.Name}'" : "");
        if (!ShouldProcess(description, $"Delete {plan.Deleting} weight(s) and {plan.NeuronsRemoving} neuron(s) of model '{Model.Name}'? This cannot be undone.", "Invoke-Pruning"))
            return;
        WarnIfBaselineHasNoMetric(Model, data);
        if (plan.TargetMet)
            WriteWarning($"The pruning target of model '{Model.Name}' ({request.Describe()}) is already met: nothing was deleted.");
        var activity = $"Fine-tuning '{Model.Name}'";
        TrainingResult? result;
        try { result = Guard(Model, () => Pruner.Apply(Model, plan, data, FineTuneEpochs, training, TrainingProgressWriter(activity), StopToken)); }
        finally { if (FineTuneEpochs > 0) CompleteProgress(activity); }
        WriteVerbose(description);
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
        using var plan = Guard(Model, () => Pruner.Plan(Model, request, data));
        var description = $"Prune ({request.Describe()} {schedule.Describe()}) model '{Model.Name}' to {request.Ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)} of its baseline"
            + (data is not null && (schedule.FineTuneEpochs > 0 || schedule.Schedule == PruneSchedule.Gradual) ? $", training on '{data.Name}'" : "")
            + $"; from the weights as they are now the final target would change:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()));
        if (!ShouldProcess(description, $"{description}? This cannot be undone.", "Invoke-Pruning")) return;
        WarnIfBaselineHasNoMetric(Model, data);
        var activity = $"Pruning '{Model.Name}' ({schedule.Schedule})";
        ScheduleResult result;
        try { result = Guard(Model, () => PruningScheduler.Run(Model, request, schedule, data, ScheduleProgressWriter(activity), StopToken)); }
        finally { CompleteScheduleProgress(activity); }
        WriteVerbose($"{description}: targets {string.Join(", ", result.Targets.Select(t => t.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}.");
        if (result.Stopped)
        {
            WriteWarning($"Pruning stopped: {result.StopNote}; what was done is kept.");
            return;
        }
        WriteObject(Model);
    }

    private void RunBudget(PruningRequest request, ScheduleOptions schedule, Dataset data)
    {
        var options = new BudgetOptions { MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, ValidationFraction = ValidationFraction, Seed = Seed };
        Guard(Model, () => BudgetSearch.Validate(Model, request, schedule, options));
        var limit = MaxAccuracyDrop is { } d ? $"validation accuracy drops at most {d:0.####}" : $"validation loss rises at most {MaxLossIncrease:P1}";
        var description = $"Prune model '{Model.Name}' ({request.Structure}, {request.Scope}, {schedule.Schedule}) as far as its {limit} (validation: {ValidationFraction:P0} of the training split of '{data.Name}')";
        if (!ShouldProcess(description, $"{description}? This cannot be undone.", "Invoke-Pruning")) return;
        var activity = $"Pruning '{Model.Name}' within a budget";
        BudgetResult result;
        try { result = Guard(Model, () => BudgetSearch.Run(Model, request, schedule, data, options, ScheduleProgressWriter(activity), StopToken)); }
        catch (PipelineStoppedException) { throw; }
        finally { CompleteScheduleProgress(activity); }
        WriteVerbose($"{description}: chose ratio {result.ChosenRatio:0.####} after {result.Probes.Count} tries; validation {result.MetricName} {result.BaselineMetric:0.####} -> {result.Metric:0.####}.");
        WriteObject(Model);
    }
}
