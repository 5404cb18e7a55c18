using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Optimize-Mlp: times each sparse layer's dense and sparse kernel and keeps the faster; or
/// (-FoldInputScaling) folds the input offsets (-IncludeScale: the scales too) into layer 0, so
/// that the model's file carries fewer per-feature statistics.
/// </summary>
[Cmdlet(VerbsCommon.Optimize, "Mlp", SupportsShouldProcess = true, DefaultParameterSetName = MeasureSet)]
[OutputType(typeof(Mlp))]
public sealed class OptimizeMlpCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

    private const string MeasureSet = "Measure";
    private const string KernelSet = "Kernel";
    private const string FoldSet = "FoldInputScaling";

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

    /// <summary>Folds the input normalization into layer 0 when that changes no prediction beyond float rounding.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FoldSet)]
    public SwitchParameter FoldInputScaling { get; set; }

    /// <summary>Folds the scales too (the model then takes raw rows); by default the offsets alone fold.</summary>
    [Parameter(ParameterSetName = FoldSet)]
    public SwitchParameter IncludeScale { get; set; }

    /// <summary>Significant bits each remaining scale keeps (1 to 23; default all): fewer compress better.</summary>
    [Parameter(ParameterSetName = FoldSet)]
    public int? ScaleBits { get; set; }

    /// <summary>The rows the fold is checked on (its training split); default the model's data set.</summary>
    [Parameter(ParameterSetName = FoldSet)]
    public Dataset? Dataset { get; set; }

    /// <summary>The largest output change allowed, relative to the largest output (at least 1).</summary>
    [Parameter(ParameterSetName = FoldSet)]
    [ValidateRange(1e-9, 1.0)]
    public double? Tolerance { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == FoldSet)
        {
            var data = DatasetFor(Model, Dataset);
            double tolerance = Tolerance ?? InputFolding.DefaultTolerance;
            // Refused before -WhatIf answers: what cannot fold says so either way.
            bool scales = IncludeScale.IsPresent;
            if (!Guard(Model, () => InputFolding.Check(Model, ref data, null, tolerance, scales, ScaleBits)))
                WriteWarning($"Model '{Model.Name}' has nothing to fold: its input offsets are 0{(scales ? " and its scales 1 (it takes raw rows)" : "")}.");
            else if (ShouldProcess(Model.Name, $"Fold the {Model.InputNormalization} input {(scales ? "normalization into layer 0" : "offsets into layer 0's bias")}, checked on the training rows of '{data!.Name}'"))
                Guard(Model, () => InputFolding.Fold(Model, data, null, tolerance, scales, ScaleBits));
            else return; // -WhatIf: a command that did nothing emits nothing
            WriteObject(Model);
            return;
        }
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
