using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Export-Mlp: writes a model file (.spmlp, SafeTensors or ONNX) atomically; never overwrites without -Force.</summary>
[Cmdlet(VerbsData.Export, "Mlp", SupportsShouldProcess = true)]
[OutputType(typeof(Mlp))]
public sealed class ExportMlpCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Spmlp (everything, exactly), SafeTensors (for PyTorch) or Onnx (for ONNX Runtime); default: by extension, else Spmlp.</summary>
    [Parameter]
    public ModelFileFormat Format { get; set; }

    /// <summary>ONNX: the opset the graph declares (13 to 21; default 17).</summary>
    [Parameter]
    [ValidateRange(OnnxExportOptions.MinOpset, OnnxExportOptions.MaxOpset)]
    public int? OpsetVersion { get; set; }

    /// <summary>ONNX: connection-pruned layers as sparse initializers (smaller files; ONNX Runtime densifies them on load).</summary>
    [Parameter] public SwitchParameter SparseInitializers { get; set; }

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
        // Values, not bound names: -SparseInitializers:$false or -OpsetVersion $null asks for nothing.
        var onnx = OpsetVersion is not null || SparseInitializers
            ? new OnnxExportOptions { OpsetVersion = OpsetVersion ?? OnnxExportOptions.DefaultOpset, SparseInitializers = SparseInitializers }
            : null;
        Guard(full, () => ModelFile.CheckOptions(format, onnx));
        if (!ShouldProcess(full, $"Export model '{Model.Name}' as {format}")) return;
        // Dense initializers are the default (see -SparseInitializers in the help); a user who did
        // not choose gets told when the pruned layers' zeros make the file much larger than it need be.
        bool hint = format == ModelFileFormat.Onnx && !MyInvocation.BoundParameters.ContainsKey(nameof(SparseInitializers));
        string? note = null;
        Guard(full, () =>
        {
            // The path names the error; the model is held (read) while it is written out.
            using var access = Model.Enter(false, MyInvocation.MyCommand.Name);
            ModelFile.Save(Model, full, format, Force, onnx);
            if (hint) note = OnnxFormat.SparseInitializerHint(Model, full, new FileInfo(full).Length);
        });
        _written.Add(full);
        if (note is not null) WriteWarning(note);
        // -PassThru emits the model, so that a pipeline can go on after saving it.
        if (PassThru) WriteObject(Model);
    }
}
