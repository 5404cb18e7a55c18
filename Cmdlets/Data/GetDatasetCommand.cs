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
    // Parameters not given stay null: Core owns the defaults and rules (BuiltInDatasetSettings.Resolve).
    [Parameter] public double? TestFraction { get; set; }
    [Parameter] public int? Seed { get; set; }
    [Parameter] public Normalization? Normalize { get; set; }

    protected override void ProcessRecord()
    {
        var settings = new BuiltInDatasetSettings
        {
            Name = Name, Path = Path is null ? null : ResolvePath(Path), TestFraction = TestFraction, Seed = Seed, Normalize = Normalize,
        };
        WriteObject(Guard(Name, () => DatasetLoader.Get(Name, settings.Resolve(), settings.Path)));
    }
}
