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

    /// <summary>A name (PowerShell converts it with Activation.Parse) or a spelling with parameters, LeakyReLU(0.2); null: ReLU.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ActivationCompleter))]
    public Activation? Activation { get; set; }

    /// <summary>The activation's parameters in PyTorch's order: LeakyReLU's slope, ELU's alpha, Softplus's beta and threshold.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public double[]? ActivationParameter { get; set; }

    [Parameter]
    public TaskKind? Task { get; set; }

    [Parameter]
    public int? Seed { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        var model = Guard(Layers, () => Mlp.Create(Layers, SparsePrune.Activation.Resolve(Activation, ActivationParameter), Task, Seed, Name));
        WriteVerbose($"Created {model} with seed {model.Seed}.");
        WriteObject(model);
    }
}
