using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Compress-Mlp: the smallest (or fastest) model within an accuracy budget, in one command. It
/// tries pruning, neuron removal and weight sharing on copies, judges each on a validation split
/// carved from the training split, and turns the model into the best candidate.
/// </summary>
[Cmdlet(VerbsData.Compress, "Mlp", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = SessionSet)]
[OutputType(typeof(Mlp), typeof(CompressionCandidate))]
public sealed class CompressMlpCommand : SparsePruneCmdlet
{
    private const string SessionSet = "Session";
    private const string ProcessSet = "Process";
    private const string RemoteSet = "Remote";

    protected override bool ChangesModel => true;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Largest drop in validation accuracy a candidate may cost (0.01 = one point; classifiers).</summary>
    [Parameter(Position = 0)] public double? MaxAccuracyDrop { get; set; }
    /// <summary>Largest relative rise of the validation loss a candidate may cost (0.1 = 10 %; regressions).</summary>
    [Parameter] public double? MaxLossIncrease { get; set; }
    [Parameter] public CompressionObjective? Objective { get; set; }
    /// <summary>The search stops when this time has passed and keeps the best candidate found so far.</summary>
    [Parameter] public TimeSpan? TimeLimit { get; set; }
    /// <summary>A model every candidate's training distils from (default: none).</summary>
    [Parameter] public Mlp? Teacher { get; set; }
    [Parameter] public double? ValidationFraction { get; set; }
    [Parameter] public double? Confidence { get; set; }
    /// <summary>Epochs of gradual pruning each pruning candidate trains.</summary>
    [Parameter] public int? Epochs { get; set; }
    /// <summary>Epochs of training of the shared values after weight sharing.</summary>
    [Parameter] public int? FineTuneEpochs { get; set; }
    /// <summary>-Objective Latency: the batch size latency is measured at.</summary>
    [Parameter] public int? BatchSize { get; set; }
    [Parameter] public int? TrainingBatchSize { get; set; }
    [Parameter] public Dataset? Dataset { get; set; }
    [Parameter] public int? Seed { get; set; }
    /// <summary>Writes every candidate tried (CompressionCandidate) instead of the model; the model is compressed either way.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    /// <summary>Worker processes on this machine that make the candidates (Invoke-PruningSweep's engine); they split its cores.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProcessSet)]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; }

    /// <summary>Hosts that make the candidates over SSH remoting, one worker per entry.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RemoteSet)]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = RemoteSet)] public string? UserName { get; set; }
    [Parameter(ParameterSetName = RemoteSet)] public string? KeyFilePath { get; set; }
    [Parameter(ParameterSetName = RemoteSet)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }
    [Parameter(ParameterSetName = RemoteSet)] public Hashtable? SshOption { get; set; }
    [Parameter(ParameterSetName = RemoteSet)] public string? ModulePath { get; set; }

    /// <summary>LibTorch threads of each worker, and of this session while it searches.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int? ThreadsPerWorker { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns every default and "does not apply" rule.
        var settings = new CompressionSettings
        {
            MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, Objective = Objective, TimeLimit = TimeLimit,
            Teacher = Teacher, ValidationFraction = ValidationFraction, Confidence = Confidence,
            Epochs = Epochs, FineTuneEpochs = FineTuneEpochs, BatchSize = BatchSize, TrainingBatchSize = TrainingBatchSize, Seed = Seed,
            PassThru = PassThru.IsPresent ? true : null,
            ThrottleLimit = ParameterSetName == ProcessSet ? ThrottleLimit : null,
            HostName = ParameterSetName == RemoteSet ? HostName : null,
            ThreadsPerWorker = ThreadsPerWorker,
        };
        var job = Guard(Model, settings.Resolve);
        var options = job.Options;
        var data = DatasetFor(Model, Dataset);
        Guard(Model, () => options.Validate(Model, data));
        var description = $"Compress model '{Model.Name}' to its smallest {Noun(options.Objective)} whose {options.DescribeBudget()} "
            + string.Create(CultureInfo.InvariantCulture, $"(validation: {options.ValidationFractionFor(data!.TrainCount):P0} of the training split of '{data!.Name}'), trying {CompressionSearch.DescribeStages(options.Objective)}");
        if (!ShouldProcess(description, $"{description}? Pruning and quantization cannot be undone.", "Compress-Mlp")) return;
        var activity = $"Compressing '{Model.Name}' ({options.Objective})";
        // The search's own work (the judging, the reference's scores) runs at the workers' threads
        // too: a model's outputs are bit-identical only at one thread count.
        int sessionThreads = TorchSharp.torch.get_num_threads();
        if (job.Threads > 0) TorchSharp.torch.set_num_threads(job.Threads);
        CompressionSearchResult result;
        try
        {
            using var maker = Maker(job);
            var verbose = CoreWriter(WriteVerbose);
            result = RunWithProgress(activity, Model, progress => CompressionSearch.Run(Model, data, options, maker, progress, StopToken, CoreWriter(WriteWarning),
                tried: c => verbose($"Candidate {c}")));
            if (maker is WorkerCandidateMaker workers)
                WriteVerbose($"The workers had begun or made {workers.MadeAhead} of the {workers.Asked} model(s) the search asked for (the reference among them) before it asked; {workers.Unused} made ahead were not needed.");
        }
        finally
        {
            if (TorchSharp.torch.get_num_threads() != sessionThreads) TorchSharp.torch.set_num_threads(sessionThreads);
        }
        if (result.Chosen is { } chosen)
            WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"Chose candidate {chosen.Candidate} of {result.Candidates.Count}: {chosen.Settings}; {chosen.FileBytes} bytes ({chosen.CompressionRatio:0.#}x), validation {chosen.MetricName} {chosen.ValidationMetric:0.####} against {result.ReferenceMetric:0.####} on {result.ValidationRows} rows, in {result.Elapsed.TotalSeconds:0} s."));
        if (result.Stopped) WriteWarning($"Compress-Mlp was stopped; model '{Model.Name}' is the best of the {result.Candidates.Count} candidate(s) tried so far.");
        if (job.WriteCandidates) WriteObject(result.Candidates, enumerateCollection: true);
        else if (!result.Stopped) WriteObject(Model);
    }

    /// <summary>This session (the serial search), or the sweep engine's workers.</summary>
    private CompressionCandidateMaker Maker(CompressionJob job) => ParameterSetName switch
    {
        ProcessSet => new WorkerCandidateMaker(
            Enumerable.Range(1, ThrottleLimit).Select(i => (SweepWorker)new ProcessWorker(i, ThrottleLimit, job.Threads)).ToList(),
            InvokePruningSweepCommand.LocalModulePath(this), job.Threads, datasetAsFile: true, CoreWriter(WriteVerbose), CoreWriter(WriteWarning)),
        RemoteSet => new WorkerCandidateMaker(
            SshWorker.For(HostName, new SshTarget(UserName, KeyFilePath is null ? null : ResolvePath(KeyFilePath), Port, SshOption)),
            ModulePath, job.Threads, datasetAsFile: false, CoreWriter(WriteVerbose), CoreWriter(WriteWarning)),
        _ => new SessionCandidateMaker(),
    };

    private static string Noun(CompressionObjective objective) => objective switch
    {
        CompressionObjective.Latency => "latency",
        CompressionObjective.Flops => "operation count",
        _ => "file",
    };
}
