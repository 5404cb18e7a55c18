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
    [Parameter] public double TestFraction { get; set; } = 0.2;
    [Parameter] public int Seed { get; set; } = 42;
    [Parameter] public Normalization Normalize { get; set; } = Normalization.Standard;

    /// <summary>The data set's name (default: the file name, or the IDX folder or prefix).</summary>
    [Parameter] [ValidateNotNullOrEmpty] public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        bool idx = Directory.Exists(full) || (!File.Exists(full) && DatasetLoader.IsIdxPrefix(full));
        if (idx && MyInvocation.BoundParameters.ContainsKey(nameof(TestFraction)))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"IDX files keep their official train/test split, so -TestFraction does not apply to '{full}'.", full);
        if (idx && TargetColumn is not null)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"-TargetColumn names a CSV column; '{full}' holds IDX files, whose labels are the target.", full);
        if (idx && ExcludeColumn is not null)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"-ExcludeColumn names CSV columns; '{full}' holds IDX files, whose pixels are all features.", full);
        var options = new DatasetOptions { TestFraction = TestFraction, Seed = Seed, Normalization = Normalize, Task = Task };
        var data = Guard(full, () => idx
            ? DatasetLoader.FromIdxFolder(full, options, Name)
            : DatasetLoader.FromCsv(full, TargetColumn, options, Name, ExcludeColumn));
        foreach (var column in data.IdentifierLikeFeatures)
            WriteWarning($"Column '{column}' of '{full}' holds a different whole number on every row, counting up: it looks like an identifier, and a model would learn noise from it. If it is one, leave it out with -ExcludeColumn {column}.");
        WriteObject(data);
    }
}
