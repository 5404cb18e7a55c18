using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Import-Mlp: reads a model file (.spmlp, SafeTensors or ONNX, told apart by content).</summary>
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
    [Parameter]
    [ArgumentCompleter(typeof(ActivationCompleter))]
    public Activation? Activation { get; set; }

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        var model = Guard(full, () => ModelFile.Load(full, Activation));
        if (Dataset is not null) Guard(model, () => model.AttachDataset(Dataset));
        WriteObject(model);
    }
}
