using System.Collections;
using System.Globalization;
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
        var options = new DatasetOptions { TestFraction = TestFraction, Seed = Seed, Normalization = Normalize, Task = Task };
        WriteObject(Guard(full, () => idx
            ? DatasetLoader.FromIdxFolder(full, options, Name)
            : DatasetLoader.FromCsv(full, TargetColumn, options, Name)));
    }
}

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
    [Parameter] public double TestFraction { get; set; } = 0.2;
    [Parameter] public int Seed { get; set; } = 42;
    [Parameter] public Normalization Normalize { get; set; } = Normalization.Standard;
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
        var options = new DatasetOptions { TestFraction = TestFraction, Seed = Seed, Normalization = Normalize, Task = Task };
        WriteObject(Guard(Name, () => DatasetLoader.FromObjects(Name, features, TargetProperty, featureValues, targets, options)));
    }

    private static object? Unwrap(object? value) => value is PSObject p ? p.BaseObject : value;
}

/// <summary>Invoke-Mlp: predictions for raw input rows (arrays of numbers or objects with the feature properties).</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Mlp")]
[OutputType(typeof(ClassPrediction), typeof(RegressionPrediction))]
public sealed class InvokeMlpCommand : SparsePruneCmdlet
{
    private const int BatchRows = 1024;
    private readonly List<float> _pending = new();
    private int _pendingRows;
    private long _row;

    [Parameter(Mandatory = true, Position = 0)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    protected override void ProcessRecord()
    {
        // -InputObject @(1,2,3) is one row; -InputObject $rows (arrays or objects) is many.
        if (InputObject.BaseObject is IEnumerable many and not string)
        {
            var items = many.Cast<object?>().ToList();
            if (items.Count > 0 && items.All(IsRowLike))
            {
                foreach (var item in items) AddRow(item as PSObject ?? PSObject.AsPSObject(item!));
                return;
            }
        }
        AddRow(InputObject);
    }

    private static bool IsRowLike(object? item)
    {
        var value = item is PSObject p ? p.BaseObject : item;
        return value is not null and not string and not IConvertible;
    }

    private void AddRow(PSObject input)
    {
        var row = ToRow(input);
        if (row.Length != Model.InputFeatures)
            Fail("FeatureCountMismatch", ErrorKind.InvalidArgument,
                $"Row {_row + _pendingRows + 1} has {row.Length} values; model '{Model.Name}' takes {Model.InputFeatures}.", input);
        _pending.AddRange(row);
        _pendingRows++;
        if (_pendingRows >= BatchRows) Flush();
    }

    protected override void EndProcessing() => Flush();

    private void Flush()
    {
        if (_pendingRows == 0) return;
        var rows = _pendingRows;
        var results = Guard(Model, () => Predictor.Predict(Model, _pending.ToArray(), rows, _row));
        _row += rows;
        _pending.Clear();
        _pendingRows = 0;
        WriteObject(results, enumerateCollection: true);
    }

    private float[] ToRow(PSObject input)
    {
        var value = input.BaseObject;
        if (value is IEnumerable enumerable and not string)
            return enumerable.Cast<object?>().Select((v, i) => ToNumber(v, $"element {i}")).ToArray();
        var names = Model.FeatureNames;
        if (names is null)
        {
            Fail("FeatureNamesUnknown", ErrorKind.InvalidArgument,
                $"Model '{Model.Name}' has not been trained on a data set with named features; pipe arrays of {Model.InputFeatures} numbers instead.", input);
        }
        var row = new float[names!.Length];
        for (int k = 0; k < names.Length; k++)
        {
            var property = input.Properties[names[k]];
            if (property is null)
                Fail("FeaturePropertyNotFound", ErrorKind.InvalidArgument,
                    $"The input object has no property '{names[k]}'; model '{Model.Name}' needs {string.Join(", ", names.Take(8))}{(names.Length > 8 ? ", …" : "")}.", input);
            row[k] = ToNumber(property!.Value, $"property '{names[k]}'");
        }
        return row;
    }

    private float ToNumber(object? value, string what)
    {
        if (value is PSObject p) value = p.BaseObject;
        double d = double.NaN;
        bool ok = value switch
        {
            null => false,
            string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d),
            IConvertible c => TryConvert(c, out d),
            _ => false,
        };
        if (!ok || double.IsNaN(d) || double.IsInfinity(d))
            Fail("InvalidInputValue", ErrorKind.InvalidArgument, $"Input {what} is '{value}', not a finite number.", value);
        return (float)d;
    }

    private static bool TryConvert(IConvertible c, out double d)
    {
        try { d = c.ToDouble(CultureInfo.InvariantCulture); return true; }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException) { d = double.NaN; return false; }
    }
}
