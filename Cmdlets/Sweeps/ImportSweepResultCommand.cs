using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Import-SweepResult: reads the result files a sweep or its shards wrote (-ResultPath) back
/// into the objects a sweep outputs, in point order; warns of the points that have none yet.
/// </summary>
[Cmdlet(VerbsData.Import, "SweepResult")]
[OutputType(typeof(SweepResult))]
public sealed class ImportSweepResultCommand : SparsePruneCmdlet
{
    /// <summary>The folder the sweep's -ResultPath named.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = null!;

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        var results = Guard(full, () => SweepResultFile.ReadAll(full));
        var missing = Guard(full, () => SweepResultFile.Missing(results, $"'{full}'"));
        if (results.Count == 0)
            WriteWarning($"'{full}' holds no sweep result files (point-*.json).");
        else if (missing.Count > 0)
            WriteWarning($"{missing.Count} of {results[0].Points} point(s) of the sweep have no result in '{full}' yet: {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", ..." : "")}. Run the shards that hold them (or the sweep again with -ResultPath '{full}').");
        foreach (var r in results) WriteObject(SweepOutput.Wrap(r));
    }
}
