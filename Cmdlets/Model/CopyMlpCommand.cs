using System.Management.Automation;

namespace SparsePrune.Cmdlets;

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
