using System.Collections;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Get-Dataset: a built-in data set.</summary>
[Cmdlet(VerbsCommon.Get, "Dataset")]
[OutputType(typeof(Dataset))]
public sealed class GetDatasetCommand : SparsePruneCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("Digits", "Iris", "Synthetic", "FashionMnist", "Mnist")]
    public string Name { get; set; } = "";

    /// <summary>Folder of IDX files (FashionMnist, Mnist).</summary>
    [Parameter] public string? Path { get; set; }
    [Parameter] public double TestFraction { get; set; } = 0.2;
    [Parameter] public int Seed { get; set; } = 42;
    [Parameter] public Normalization Normalize { get; set; } = Normalization.Standard;

    protected override void ProcessRecord()
    {
        bool idx = Name is "FashionMnist" or "Mnist";
        if (!idx && Path is not null)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"-Path names a folder of IDX files (FashionMnist, Mnist); '{Name}' is built in. For a file of your own use Import-Dataset.", Name);
        if (idx && MyInvocation.BoundParameters.ContainsKey(nameof(TestFraction)))
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, $"'{Name}' keeps its official train/test split (60000/10000), so -TestFraction does not apply.", Name);
        var options = new DatasetOptions { TestFraction = TestFraction, Seed = Seed, Normalization = Normalize };
        var path = Path is null ? null : ResolvePath(Path);
        WriteObject(Guard(Name, () => DatasetLoader.Get(Name, options, path)));
    }
}
