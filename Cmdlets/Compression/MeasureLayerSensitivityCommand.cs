using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Measure-LayerSensitivity: each layer pruned alone to each level, on a copy; the model is unchanged.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "LayerSensitivity")]
[OutputType(typeof(LayerSensitivity))]
public sealed class MeasureLayerSensitivityCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Levels: fractions of each layer's baseline weights (Connection) or neurons (Neuron) deleted.</summary>
    /// <remarks>Named -Sparsity before it was called what it is (a pruning ratio); the alias keeps scripts running.</remarks>
    [Parameter]
    [Alias("Sparsity")]
    public double[]? Ratio { get; set; }

    [Parameter] public PruneStructure? Structure { get; set; }
    [Parameter, CriterionName] public PruneCriterion? Criterion { get; set; }
    [Parameter] public double? ValidationFraction { get; set; }
    [Parameter] public int? Seed { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns the defaults (SensitivitySettings).
        var job = Guard(Model, new SensitivitySettings { Ratio = Ratio, Structure = Structure, Criterion = Criterion, ValidationFraction = ValidationFraction, Seed = Seed }.Resolve);
        var data = RequireDataset(Model, Dataset, "Measure-LayerSensitivity");
        var activity = $"Layer sensitivity of '{Model.Name}'";
        var rows = RunWithProgress(activity, Model, progress => SensitivityAnalysis.Measure(Model, data, job.Levels, job.Structure, job.Criterion, job.ValidationFraction, job.Seed, progress, StopToken));
        WriteObject(rows, enumerateCollection: true);
    }
}
