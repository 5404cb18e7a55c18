using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Export-CompressionReport: one self-contained HTML file (inline SVG charts, no outside
/// references) for the models, reports and sensitivity rows piped in.
/// </summary>
[Cmdlet(VerbsData.Export, "CompressionReport", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportCompressionReportCommand : SparsePruneCmdlet
{
    private const string Activity = "Export-CompressionReport";

    /// <summary>A model (Mlp), a Get-CompressionReport object, an Invoke-PruningSweep result, a Compress-Mlp candidate, or Measure-LayerSensitivity rows.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Measures the metric of models that have no data set of their own.</summary>
    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Measure-LayerSensitivity rows to draw as curves (they may also be piped in).</summary>
    [Parameter] public LayerSensitivity[]? Sensitivity { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "SparsePrune compression report";

    [Parameter] public SwitchParameter Force { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }

    private readonly List<ReportSubject> _subjects = new();
    private readonly List<LayerSensitivity> _sensitivity = new();
    private string _full = "";

    protected override void BeginProcessing()
    {
        // Refused before any work: an existing file without -Force, a folder, a missing folder.
        _full = Guard(Path, () => HtmlReportFile.CheckTarget(ResolvePath(Path), Force));
        if (Sensitivity is not null) _sensitivity.AddRange(Sensitivity);
    }

    protected override void ProcessRecord()
    {
        switch (InputObject?.BaseObject)
        {
            case Mlp model:
                // Taken now: the report shows the model as it was when it reached this cmdlet.
                _subjects.Add(Guard(model, () => ReportSubject.FromModel(model, DatasetFor(model, Dataset))));
                break;
            case CompressionReport report:
                _subjects.Add(ReportSubject.FromReport(report));
                break;
            case SweepResult point:
                _subjects.Add(point.Model is { } compressed ? Guard(compressed, () => ReportSubject.FromSweep(point)) : ReportSubject.FromSweep(point));
                break;
            case CompressionCandidate candidate:
                _subjects.Add(Guard(candidate, () => ReportSubject.FromCandidate(candidate)));
                break;
            case LayerSensitivity row:
                _sensitivity.Add(row);
                break;
            default:
                Fail("UnsupportedReportInput", ErrorKind.InvalidArgument,
                    $"Export-CompressionReport takes models, Get-CompressionReport objects, Invoke-PruningSweep results, Compress-Mlp -PassThru candidates and Measure-LayerSensitivity rows; it was given {(InputObject?.BaseObject is null ? "null" : InputObject.BaseObject.GetType().Name)}.", InputObject);
                break;
        }
    }

    protected override void EndProcessing()
    {
        if (_subjects.Count == 0 && _sensitivity.Count == 0)
            Fail("NothingToReport", ErrorKind.InvalidArgument,
                "Export-CompressionReport received no model, report or sensitivity row, so no file was written. Pipe models to it, e.g. $model | Export-CompressionReport report.html.", Path);
        var document = new CompressionReportDocument { Title = Title, Subjects = _subjects, Sensitivity = _sensitivity };
        string what = _subjects.Count == 1 ? $"model '{_subjects[0].Name}'" : $"{_subjects.Count} models";
        if (!ShouldProcess(_full, $"Write the HTML compression report of {what}")) return;
        RunWithProgress(Activity, Path, progress =>
        {
            int drawn = 0, total = document.ChartCount;
            var html = document.Render(() =>
            {
                StopToken.ThrowIfCancellationRequested();
                progress(new WorkProgress($"Chart {++drawn} of {total}", drawn, total));
            });
            HtmlReportFile.Write(_full, html, Force);
            return 0;
        });
        if (PassThru) WriteObject(new FileInfo(_full));
    }
}
