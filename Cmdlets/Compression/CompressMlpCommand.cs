using System.Globalization;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Compress-Mlp: the smallest (or fastest) model within an accuracy budget, in one command. It
/// tries pruning, neuron removal and weight sharing on copies, judges each on a validation split
/// carved from the training split, and turns the model into the best candidate.
/// </summary>
[Cmdlet(VerbsData.Compress, "Mlp", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Mlp), typeof(CompressionCandidate))]
public sealed class CompressMlpCommand : SparsePruneCmdlet
{
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

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns every default and "does not apply" rule.
        var settings = new CompressionSettings
        {
            MaxAccuracyDrop = MaxAccuracyDrop, MaxLossIncrease = MaxLossIncrease, Objective = Objective, TimeLimit = TimeLimit,
            Teacher = Teacher, ValidationFraction = ValidationFraction, Confidence = Confidence,
            Epochs = Epochs, FineTuneEpochs = FineTuneEpochs, BatchSize = BatchSize, TrainingBatchSize = TrainingBatchSize, Seed = Seed,
            PassThru = PassThru.IsPresent ? true : null,
        };
        var job = Guard(Model, settings.Resolve);
        var options = job.Options;
        var data = DatasetFor(Model, Dataset);
        Guard(Model, () => options.Validate(Model, data));
        var description = $"Compress model '{Model.Name}' to its smallest {Noun(options.Objective)} whose {options.DescribeBudget()} "
            + string.Create(CultureInfo.InvariantCulture, $"(validation: {options.ValidationFractionFor(data!.TrainCount):P0} of the training split of '{data!.Name}'), trying {CompressionSearch.DescribeStages(options.Objective)}");
        if (!ShouldProcess(description, $"{description}? Pruning and quantization cannot be undone.", "Compress-Mlp")) return;
        var activity = $"Compressing '{Model.Name}' ({options.Objective})";
        var result = RunWithProgress(activity, Model, progress => CompressionSearch.Run(Model, data, options, progress, StopToken, WriteWarning,
            tried: c => WriteVerbose($"Candidate {c}")));
        if (result.Chosen is { } chosen)
            WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"Chose candidate {chosen.Candidate} of {result.Candidates.Count}: {chosen.Settings}; {chosen.FileBytes} bytes ({chosen.CompressionRatio:0.#}x), validation {chosen.MetricName} {chosen.ValidationMetric:0.####} against {result.ReferenceMetric:0.####} on {result.ValidationRows} rows, in {result.Elapsed.TotalSeconds:0} s."));
        if (result.Stopped) WriteWarning($"Compress-Mlp was stopped; model '{Model.Name}' is the best of the {result.Candidates.Count} candidate(s) tried so far.");
        if (job.WriteCandidates) WriteObject(result.Candidates, enumerateCollection: true);
        else if (!result.Stopped) WriteObject(Model);
    }

    private static string Noun(CompressionObjective objective) => objective switch
    {
        CompressionObjective.Latency => "latency",
        CompressionObjective.Flops => "operation count",
        _ => "file",
    };
}
