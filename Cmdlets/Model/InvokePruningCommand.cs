using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>New-Mlp: a fresh multi-layer perceptron.</summary>
[Cmdlet(VerbsCommon.New, "Mlp")]
[OutputType(typeof(Mlp))]
public sealed class NewMlpCommand : SparsePruneCmdlet
{
    /// <summary>All widths, input first: 10,5,3,1.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public int[] Layers { get; set; } = Array.Empty<int>();

    [Parameter]
    public Activation Activation { get; set; } = Activation.ReLU;

    [Parameter]
    public TaskKind? Task { get; set; }

    [Parameter]
    public int? Seed { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        var model = Guard(Layers, () => Mlp.Create(Layers, Activation, Task, Seed, Name));
        WriteVerbose($"Created {model} with seed {model.Seed}.");
        WriteObject(model);
    }
}

/// <summary>Copy-Mlp: an independent copy of a model.</summary>
[Cmdlet(VerbsCommon.Copy, "Mlp")]
[OutputType(typeof(Mlp))]
public sealed class CopyMlpCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessRecord() => WriteObject(Guard(Model, () => Model.Clone(Name)));
}

/// <summary>Invoke-Training: trains a model in place and emits it.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Training", SupportsShouldProcess = true)]
[OutputType(typeof(Mlp))]
public sealed class InvokeTrainingCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Default: the data set the model was last trained on.</summary>
    [Parameter]
    public Dataset? Dataset { get; set; }

    [Parameter] public int Epochs { get; set; } = 10;
    [Parameter] public int BatchSize { get; set; } = 64;
    [Parameter] public double? LearningRate { get; set; }
    [Parameter] public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;
    [Parameter] public double Momentum { get; set; }
    [Parameter] public double WeightDecay { get; set; }
    [Parameter] public double L1 { get; set; }
    [Parameter] public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.Constant;
    [Parameter] public int? Seed { get; set; }

    protected override void ProcessRecord()
    {
        var data = RequireDataset(Model, Dataset, "Invoke-Training");
        var options = new TrainingOptions
        {
            Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, Optimizer = Optimizer,
            Momentum = Momentum, WeightDecay = WeightDecay, L1 = L1, Seed = Seed, LearningRateSchedule = LearningRateSchedule,
        };
        Guard(Model, () => { options.Validate(); Evaluator.CheckCompatible(Model, data); });
        if (!ShouldProcess($"model '{Model.Name}'", $"Train {Epochs} epoch(s) on '{data.Name}' ({Optimizer}, learning rate {options.EffectiveLearningRate})"))
            return;
        var activity = $"Training '{Model.Name}' on '{data.Name}'";
        TrainingResult result;
        try { result = Guard(Model, () => Trainer.Train(Model, data, options, TrainingProgressWriter(activity), StopToken)); }
        finally { CompleteProgress(activity); }
        if (result.Stopped)
        {
            WriteWarning($"Training {result.StopNote}.");
            return;
        }
        WriteVerbose($"Trained {result.EpochsCompleted} epoch(s): train loss {result.FinalLoss:0.#####}, {result.Metric?.Name} {result.Metric?.Value:0.#####} (seed {result.Seed}).");
        WriteObject(Model);
    }
}

/// <summary>Set-Sparsity: hides weights behind a mask (reversible).</summary>
[Cmdlet(VerbsCommon.Set, "Sparsity", SupportsShouldProcess = true, DefaultParameterSetName = SparsitySet)]
[OutputType(typeof(Mlp))]
public sealed class SetSparsityCommand : SparsePruneCmdlet
{
    private const string SparsitySet = "Sparsity";
    private const string ThresholdSet = "Threshold";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Target fraction of zero weights in scope, in [0, 1).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SparsitySet)]
    public double Sparsity { get; set; }

    /// <summary>Weights with |w| below this are masked.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThresholdSet)]
    public double Threshold { get; set; }

    [Parameter] public PruneScope Scope { get; set; } = PruneScope.Layer;
    [Parameter] public SparsityMethod Method { get; set; } = SparsityMethod.Magnitude;
    [Parameter] public int[]? Layer { get; set; }
    [Parameter] public int? Seed { get; set; }

    /// <summary>Data set for the baseline metric (default: the model's).</summary>
    [Parameter] public Dataset? Dataset { get; set; }

    protected override void ProcessRecord()
    {
        // Values, not bound names: $null or a $PSDefaultParameterValues default that changes nothing is no conflict.
        // -Seed with magnitude masks is harmless (and a session may set it for every cmdlet): no error.
        if (ParameterSetName == ThresholdSet && Scope != PruneScope.Layer)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-Threshold compares every weight with one value, so -Scope changes nothing: leave it out, or give -Sparsity with -Scope.", Model);
        var request = new SparsityRequest
        {
            Sparsity = ParameterSetName == SparsitySet ? Sparsity : null,
            Threshold = ParameterSetName == ThresholdSet ? Threshold : null,
            Scope = Scope, Method = Method, Layers = Layer, Seed = Seed,
        };
        var data = DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => Evaluator.CheckCompatible(Model, data));
        using var plan = Guard(Model, () => Sparsifier.Plan(Model, request));
        var description = $"Set sparsity ({request.Describe()}) of model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()));
        if (!ShouldProcess(description, $"Set sparsity of model '{Model.Name}'? " + string.Join("; ", plan.Changes), "Set-Sparsity"))
            return;
        WarnIfBaselineHasNoMetric(Model, data);
        Guard(Model, () => Sparsifier.Apply(Model, plan, data));
        WriteVerbose(description);
        WriteObject(Model);
    }
}

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
            KeepN = keepN, GroupM = groupM, Layers = Layer, TaylorBatchSize = BatchSize,
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
        Guard(Model, () => AccuracyBudget.Validate(Model, request, schedule, options));
        var limit = MaxAccuracyDrop is { } d ? $"validation accuracy drops at most {d:0.####}" : $"validation loss rises at most {MaxLossIncrease:P1}";
        var description = $"Prune model '{Model.Name}' ({request.Structure}, {request.Scope}, {schedule.Schedule}) as far as its {limit} (validation: {ValidationFraction:P0} of the training split of '{data.Name}')";
        if (!ShouldProcess(description, $"{description}? This cannot be undone.", "Invoke-Pruning")) return;
        var activity = $"Pruning '{Model.Name}' within a budget";
        BudgetResult result;
        try { result = Guard(Model, () => AccuracyBudget.Run(Model, request, schedule, data, options, ScheduleProgressWriter(activity), StopToken)); }
        catch (PipelineStoppedException) { throw; }
        finally { CompleteScheduleProgress(activity); }
        WriteVerbose($"{description}: chose ratio {result.ChosenRatio:0.####} after {result.Probes.Count} tries; validation {result.MetricName} {result.BaselineMetric:0.####} -> {result.Metric:0.####}.");
        WriteObject(Model);
    }
}

/// <summary>Measure-LayerSensitivity: each layer pruned alone to each level, on a copy; the model is unchanged.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "LayerSensitivity")]
[OutputType(typeof(LayerSensitivity))]
public sealed class MeasureLayerSensitivityCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Levels: fractions of each layer's baseline weights (Connection) or neurons (Neuron) deleted.</summary>
    [Parameter] public double[] Sparsity { get; set; } = { 0.5, 0.8, 0.9, 0.95 };

    [Parameter] public PruneStructure Structure { get; set; } = PruneStructure.Connection;
    [Parameter] public PruneCriterion Criterion { get; set; } = PruneCriterion.L1;
    [Parameter] public double ValidationFraction { get; set; } = 0.1;
    [Parameter] public int? Seed { get; set; }

    protected override void ProcessRecord()
    {
        var data = RequireDataset(Model, Dataset, "Measure-LayerSensitivity");
        var activity = $"Layer sensitivity of '{Model.Name}'";
        IReadOnlyList<LayerSensitivity> rows;
        try
        {
            rows = Guard(Model, () => SensitivityAnalysis.Measure(Model, data, Sparsity, Structure, Criterion, ValidationFraction, Seed,
                (done, total, what) =>
                {
                    if (StopToken.IsCancellationRequested) return;
                    try { WriteProgress(new ProgressRecord(1, activity, what) { PercentComplete = total == 0 ? 100 : 100 * done / total }); }
                    catch (PipelineStoppedException) { }
                }, StopToken));
        }
        catch (OperationCanceledException) { return; }
        finally { CompleteProgress(activity); }
        WriteObject(rows, enumerateCollection: true);
    }
}

/// <summary>Get-CompressionReport: what compression bought and cost.</summary>
[Cmdlet(VerbsCommon.Get, "CompressionReport")]
[OutputType(typeof(CompressionReport), typeof(LayerReport))]
public sealed class GetCompressionReportCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Emit one row per layer instead of the totals.</summary>
    [Parameter] public SwitchParameter ByLayer { get; set; }

    protected override void ProcessRecord()
    {
        var data = DatasetFor(Model, Dataset);
        var report = Guard(Model, () => CompressionReport.Create(Model, data));
        if (ByLayer) WriteObject(report.Layers, enumerateCollection: true);
        else WriteObject(report);
    }
}

/// <summary>Measure-Mlp: metric and latency.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "Mlp", DefaultParameterSetName = MetricSet)]
[OutputType(typeof(Measurement), ParameterSetName = new[] { MetricSet })]
[OutputType(typeof(LatencyMeasurement), ParameterSetName = new[] { LatencySet })]
public sealed class MeasureMlpCommand : SparsePruneCmdlet
{
    private const string MetricSet = "Metric";
    private const string LatencySet = "Latency";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Timed forward passes: single rows for the metric set's LatencyMs; batches for -Latency.</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Repeat { get; set; } = 50;

    /// <summary>Times forward passes of whole batches (one result per -BatchSize) instead of scoring the model.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LatencySet)]
    public SwitchParameter Latency { get; set; }

    [Parameter(ParameterSetName = LatencySet)]
    public int[] BatchSize { get; set; } = { 1, 256 };

    /// <summary>Untimed runs before each series.</summary>
    [Parameter(ParameterSetName = LatencySet)]
    [ValidateRange(0, 10000)]
    public int Warmup { get; set; } = 5;

    protected override void ProcessRecord()
    {
        if (!Latency)
        {
            var data = RequireDataset(Model, Dataset, "Measure-Mlp");
            WriteObject(Guard(Model, () => Evaluator.Measure(Model, data, Repeat)));
            return;
        }
        var activity = $"Latency of '{Model.Name}'";
        List<LatencyMeasurement> rows;
        try
        {
            rows = Guard(Model, () => KernelTuner.MeasureLatency(Model, BatchSize, DatasetFor(Model, Dataset), Repeat, Warmup,
                (done, total) =>
                {
                    if (StopToken.IsCancellationRequested) return;
                    try { WriteProgress(new ProgressRecord(1, activity, $"Batch size {BatchSize[done]}") { PercentComplete = 100 * done / total }); }
                    catch (PipelineStoppedException) { }
                }, StopToken));
        }
        catch (OperationCanceledException) { return; }
        finally { CompleteProgress(activity); }
        WriteObject(rows, enumerateCollection: true);
    }
}

/// <summary>Optimize-Mlp: times each sparse layer's dense and sparse kernel and keeps the faster.</summary>
[Cmdlet(VerbsCommon.Optimize, "Mlp", SupportsShouldProcess = true, DefaultParameterSetName = MeasureSet)]
[OutputType(typeof(Mlp))]
public sealed class OptimizeMlpCommand : SparsePruneCmdlet
{
    private const string MeasureSet = "Measure";
    private const string KernelSet = "Kernel";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>The batch size the model will serve: kernels are timed at it.</summary>
    [Parameter(ParameterSetName = MeasureSet)]
    [ValidateRange(1, 65536)]
    public int BatchSize { get; set; } = 1;

    [Parameter(ParameterSetName = MeasureSet)]
    [ValidateRange(1, 10000)]
    public int Repeat { get; set; } = 20;

    /// <summary>Sets every sparse layer's kernel without timing (Auto: chosen per batch by density).</summary>
    [Parameter(Mandatory = true, ParameterSetName = KernelSet)]
    public LayerKernel Kernel { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == KernelSet)
        {
            if (ShouldProcess(Model.Name, $"Set the kernel of every sparse layer to {Kernel}"))
                Guard(Model, () => KernelTuner.Apply(Model, null, Kernel));
            WriteObject(Model);
            return;
        }
        if (!ShouldProcess(Model.Name, $"Time dense and sparse kernels at batch size {BatchSize} and keep the faster per layer"))
        {
            WriteObject(Model);
            return;
        }
        var activity = $"Optimizing '{Model.Name}' for batch size {BatchSize}";
        List<KernelDecision> decisions;
        try
        {
            decisions = Guard(Model, () => KernelTuner.Optimize(Model, BatchSize, Repeat,
                (done, total) =>
                {
                    if (StopToken.IsCancellationRequested) return;
                    try { WriteProgress(new ProgressRecord(1, activity, $"Layer {done + 1} of {total}") { PercentComplete = 100 * done / total }); }
                    catch (PipelineStoppedException) { }
                }, StopToken));
        }
        catch (OperationCanceledException) { return; }
        finally { CompleteProgress(activity); }
        foreach (var d in decisions) WriteVerbose(d.ToString());
        if (decisions.Count == 0) WriteWarning($"Model '{Model.Name}' has no layer stored sparse (Invoke-Pruning -Structure Connection stores one); every layer runs dense.");
        Guard(Model, () => KernelTuner.Apply(Model, decisions, batch: BatchSize));
        WriteObject(Model);
    }
}

/// <summary>Export-Mlp: writes a model file (.spmlp or SafeTensors) atomically; never overwrites without -Force.</summary>
[Cmdlet(VerbsData.Export, "Mlp", SupportsShouldProcess = true)]
[OutputType(typeof(Mlp))]
public sealed class ExportMlpCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Spmlp (everything, exactly) or SafeTensors (for PyTorch); default: by extension, .safetensors or else Spmlp.</summary>
    [Parameter]
    public ModelFileFormat Format { get; set; }

    [Parameter] public SwitchParameter Force { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }

    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        var format = ModelFile.FormatFor(full, MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format : null);
        // Several models piped to one -Path would overwrite each other (with -Force) silently.
        if (_written.Contains(full))
            Fail("DuplicatePath", ErrorKind.InvalidArgument, $"More than one model was piped to '{full}'; the first was written. Give each model its own path, e.g. ForEach-Object {{ $_ | Export-Mlp \"$($_.Name).spmlp\" }}.", Model);
        if (!ShouldProcess(full, $"Export model '{Model.Name}' as {format}")) return;
        Guard(full, () => ModelFile.Save(Model, full, format, Force));
        _written.Add(full);
        // -PassThru emits the model, so that a pipeline can go on after saving it.
        if (PassThru) WriteObject(Model);
    }
}

/// <summary>Import-Mlp: reads a model file written by Export-Mlp (.spmlp or SafeTensors, told apart by content).</summary>
[Cmdlet(VerbsData.Import, "Mlp")]
[OutputType(typeof(Mlp))]
public sealed class ImportMlpCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The data set later cmdlets use by default (a model file holds no data).</summary>
    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>For a SafeTensors state dict without SparsePrune's metadata: the activation between its Linear layers.</summary>
    [Parameter] public Activation? Activation { get; set; }

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        var model = Guard(full, () => ModelFile.Load(full, Activation));
        if (Dataset is not null) Guard(model, () => model.AttachDataset(Dataset));
        WriteObject(model);
    }
}
