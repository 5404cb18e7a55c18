using System.Collections;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Import-Dataset: a CSV file with a header, or a folder of IDX files.</summary>
[Cmdlet(VerbsData.Import, "Dataset")]
[OutputType(typeof(Dataset))]
public sealed class ImportDatasetCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The target column (CSV; default: the last column).</summary>
    [Parameter] public string? TargetColumn { get; set; }
    /// <summary>CSV columns that are not features (an ID, a date): left out of the data set.</summary>
    [Parameter] [ValidateNotNullOrEmpty] public string[]? ExcludeColumn { get; set; }
    [Parameter] public TaskKind? Task { get; set; }
    [Parameter] public double? TestFraction { get; set; }
    [Parameter] public int? Seed { get; set; }
    [Parameter] public Normalization? Normalize { get; set; }

    /// <summary>The data set's name (default: the file name, or the IDX folder or prefix).</summary>
    [Parameter] [ValidateNotNullOrEmpty] public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        // Parameters not given stay null: Core owns the defaults and rules (DatasetImportSettings.Resolve).
        var settings = new DatasetImportSettings
        {
            Path = full, TargetColumn = TargetColumn, ExcludeColumn = ExcludeColumn, Task = Task,
            TestFraction = TestFraction, Seed = Seed, Normalize = Normalize, Name = Name,
        };
        var data = Guard(full, () => settings.Resolve().Load());
        foreach (var column in data.IdentifierLikeFeatures)
            WriteWarning($"Column '{column}' of '{full}' holds a different whole number on every row, counting up: it looks like an identifier, and a model would learn noise from it. If it is one, leave it out with -ExcludeColumn {column}.");
        WriteObject(data);
    }
}
