using System.Collections;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>ConvertTo-Dataset: a data set from pipeline objects (Import-Csv rows, custom objects).</summary>
[Cmdlet(VerbsData.ConvertTo, "Dataset")]
[OutputType(typeof(Dataset))]
public sealed class ConvertToDatasetCommand : SparsePruneCmdlet
{
    private readonly List<PSObject> _rows = new();

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string TargetProperty { get; set; } = "";

    /// <summary>Feature properties, in order (default: every other property of the first object).</summary>
    [Parameter] public string[]? FeatureProperty { get; set; }
    [Parameter] public TaskKind? Task { get; set; }
    [Parameter] public double? TestFraction { get; set; }
    [Parameter] public int? Seed { get; set; }
    [Parameter] public Normalization? Normalize { get; set; }
    [Parameter] [ValidateNotNullOrEmpty] public string Name { get; set; } = "Dataset";

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _rows.Add(InputObject);
    }

    protected override void EndProcessing()
    {
        if (_rows.Count == 0)
            Fail("EmptyDataset", ErrorKind.InvalidData, "ConvertTo-Dataset received no objects: pipe at least two rows into it.", null);
        var first = _rows[0];
        var names = first.Properties.Select(p => p.Name).ToList();
        if (!names.Contains(TargetProperty, StringComparer.OrdinalIgnoreCase))
            Fail("TargetPropertyNotFound", ErrorKind.InvalidArgument,
                $"The objects have no property '{TargetProperty}'. Their properties are: {string.Join(", ", names)}.", TargetProperty);
        var features = FeatureProperty ?? names.Where(n => !n.Equals(TargetProperty, StringComparison.OrdinalIgnoreCase)).ToArray();
        var featureValues = new List<object?[]>(_rows.Count);
        var targets = new List<object?>(_rows.Count);
        for (int i = 0; i < _rows.Count; i++)
        {
            var row = _rows[i];
            var values = new object?[features.Length];
            for (int k = 0; k < features.Length; k++)
            {
                var property = row.Properties[features[k]];
                if (property is null)
                    Fail("FeaturePropertyNotFound", ErrorKind.InvalidData, $"Object {i + 1} has no property '{features[k]}'; every object needs every feature property.", row);
                values[k] = Unwrap(property!.Value);
            }
            featureValues.Add(values);
            targets.Add(Unwrap(row.Properties[TargetProperty]?.Value));
        }
        var options = DatasetOptions.From(TestFraction, Seed, Normalize, Task);
        var data = Guard(Name, () => DatasetLoader.FromObjects(Name, features, TargetProperty, featureValues, targets, options));
        foreach (var property in data.IdentifierLikeFeatures)
            WriteWarning($"Property '{property}' holds a different whole number on every object, counting up: it looks like an identifier, and a model would learn noise from it. If it is one, name the features with -FeatureProperty and leave it out.");
        WriteObject(data);
    }

    private static object? Unwrap(object? value) => value is PSObject p ? p.BaseObject : value;
}
