using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Optimize-Mlp: times each sparse layer's dense and sparse kernel and keeps the faster.</summary>
[Cmdlet(VerbsCommon.Optimize, "Mlp", SupportsShouldProcess = true, DefaultParameterSetName = MeasureSet)]
[OutputType(typeof(Mlp))]
public sealed class OptimizeMlpCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

    private const string MeasureSet = "Measure";
    private const string KernelSet = "Kernel";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>The batch size the model will serve: kernels are timed at it.</summary>
    [Parameter(ParameterSetName = MeasureSet)]
    [ValidateRange(1, 65536)]
    public int? BatchSize { get; set; }

    [Parameter(ParameterSetName = MeasureSet)]
    [ValidateRange(1, 10000)]
    public int? Repeat { get; set; }

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
        // Parameters not given stay null: Core owns the defaults (KernelTuningSettings).
        var (batchSize, repeat) = new KernelTuningSettings { BatchSize = BatchSize, Repeat = Repeat }.Resolve();
        if (!ShouldProcess(Model.Name, $"Time dense and sparse kernels at batch size {batchSize} and keep the faster per layer"))
        {
            WriteObject(Model);
            return;
        }
        var activity = $"Optimizing '{Model.Name}' for batch size {batchSize}";
        var decisions = RunWithProgress(activity, Model, progress => KernelTuner.Optimize(Model, batchSize, repeat, progress, StopToken));
        foreach (var d in decisions) WriteVerbose(d.ToString());
        if (decisions.Count == 0) WriteWarning($"Model '{Model.Name}' has no layer stored sparse (Invoke-Pruning -Structure Connection stores one); every layer runs dense.");
        Guard(Model, () => KernelTuner.Apply(Model, decisions, batch: batchSize));
        WriteObject(Model);
    }
}
