using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Set-Sparsity: hides weights behind a mask (reversible).</summary>
[Cmdlet(VerbsCommon.Set, "Sparsity", SupportsShouldProcess = true, DefaultParameterSetName = SparsitySet)]
[OutputType(typeof(Mlp))]
public sealed class SetSparsityCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

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

    [Parameter] public PruneScope? Scope { get; set; }
    /// <summary>The ranking criterion: L1 (also named Magnitude), L2, Random, or Taylor and Fisher on data.</summary>
    [Parameter, CriterionName] public PruneCriterion? Method { get; set; }
    [Parameter] public int[]? Layer { get; set; }
    [Parameter] public int? Seed { get; set; }

    /// <summary>-Scope Global: no layer has more than this fraction of its weights masked (default: no cap).</summary>
    [Parameter(ParameterSetName = SparsitySet)] public double? MaxLayerSparsity { get; set; }

    /// <summary>Data set for the baseline metric (default: the model's).</summary>
    [Parameter] public Dataset? Dataset { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns every default and rule (SparsitySettings.Resolve).
        var settings = new SparsitySettings
        {
            Sparsity = ParameterSetName == SparsitySet ? Sparsity : null,
            Threshold = ParameterSetName == ThresholdSet ? Threshold : null,
            Scope = Scope, Method = Method, Layers = Layer, Seed = Seed, MaxLayerSparsity = MaxLayerSparsity,
        };
        var request = Guard(Model, settings.Resolve);
        var data = DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => ModelInputs.CheckCompatible(Model, data));
        using var plan = Guard(Model, () => Sparsifier.Plan(Model, request, data));
        var description = $"Set sparsity ({request.Describe()}) of model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Changes.Select(c => c.ToString()));
        if (!ShouldProcess(description, $"Set sparsity of model '{Model.Name}'? " + string.Join("; ", plan.Changes), "Set-Sparsity"))
            return;
        WarnIfBaselineHasNoMetric(Model, data);
        Guard(Model, () => Sparsifier.Apply(Model, plan, data));
        WriteVerbose(description);
        if (Sparsifier.CapNote(plan) is { } capNote) WriteWarning(capNote + ".");
        WriteObject(Model);
    }
}
