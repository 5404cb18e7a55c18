using System.Management.Automation;

namespace SparsePrune.Cmdlets;

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
    public int? Repeat { get; set; }

    /// <summary>Times forward passes of whole batches (one result per -BatchSize) instead of scoring the model.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LatencySet)]
    public SwitchParameter Latency { get; set; }

    [Parameter(ParameterSetName = LatencySet)]
    public int[]? BatchSize { get; set; }

    /// <summary>Untimed runs before each series.</summary>
    [Parameter(ParameterSetName = LatencySet)]
    [ValidateRange(0, 10000)]
    public int? Warmup { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns the defaults (MeasurementSettings.Resolve).
        var settings = new MeasurementSettings { Latency = Latency.IsPresent ? true : null, Repeat = Repeat, BatchSize = BatchSize, Warmup = Warmup };
        var job = Guard(Model, settings.Resolve);
        if (!job.Latency)
        {
            var data = RequireDataset(Model, Dataset, "Measure-Mlp");
            WriteObject(Guard(Model, () => Evaluator.Measure(Model, data, job.Repeat)));
            return;
        }
        var activity = $"Latency of '{Model.Name}'";
        var rows = RunWithProgress(activity, Model, progress => KernelTuner.MeasureLatency(Model, job.BatchSizes, DatasetFor(Model, Dataset), job.Repeat, job.Warmup, progress, StopToken));
        WriteObject(rows, enumerateCollection: true);
    }
}
