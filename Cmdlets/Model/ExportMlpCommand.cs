using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Export-Mlp: writes a model file (.spmlp or SafeTensors) atomically; never overwrites without -Force.</summary>
[Cmdlet(VerbsData.Export, "Mlp", SupportsShouldProcess = true)]
[OutputType(typeof(Mlp))]
public sealed class ExportMlpCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Spmlp (everything, exactly) or SafeTensors (for PyTorch); default: by extension, .safetensors or else Spmlp.</summary>
    [Parameter]
    public ModelFileFormat Format { get; set; }

    [Parameter] public SwitchParameter Force { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }

    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        var format = ModelFile.FormatFor(full, MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format : null);
        // Several models piped to one -Path would overwrite each other (with -Force) silently.
        if (_written.Contains(full))
            Fail("DuplicatePath", ErrorKind.InvalidArgument, $"More than one model was piped to '{full}'; the first was written. Give each model its own path, e.g. ForEach-Object {{ $_ | Export-Mlp \"$($_.Name).spmlp\" }}.", Model);
        if (!ShouldProcess(full, $"Export model '{Model.Name}' as {format}")) return;
        Guard(full, () => ModelFile.Save(Model, full, format, Force));
        _written.Add(full);
        // -PassThru emits the model, so that a pipeline can go on after saving it.
        if (PassThru) WriteObject(Model);
    }
}
