using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Get-CompressionReport: what compression bought and cost.</summary>
[Cmdlet(VerbsCommon.Get, "CompressionReport")]
[OutputType(typeof(CompressionReport), typeof(LayerReport))]
public sealed class GetCompressionReportCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>Emit one row per layer instead of the totals.</summary>
    [Parameter] public SwitchParameter ByLayer { get; set; }

    protected override void ProcessRecord()
    {
        var data = DatasetFor(Model, Dataset);
        // -ByLayer emits the layer rows alone, which have no file: the file is not written for them.
        var report = Guard(Model, () => CompressionReport.Create(Model, data, withFile: !ByLayer));
        if (ByLayer) WriteObject(report.Layers, enumerateCollection: true);
        else WriteObject(report);
    }
}
