using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Mlp: predictions for raw input rows (arrays of numbers or objects with the feature properties).</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Mlp", DefaultParameterSetName = ModelSet)]
[OutputType(typeof(ClassPrediction), typeof(RegressionPrediction))]
public sealed class InvokeMlpCommand : SparsePruneCmdlet
{
    /// <summary>Rows from the pipeline, the model named: Import-Csv x.csv | Invoke-Mlp $model.</summary>
    private const string RowsSet = "Rows";
    /// <summary>The model from the pipeline, as every other model cmdlet takes it: $model | Invoke-Mlp -InputObject $rows.</summary>
    private const string ModelSet = "Model";

    private const int BatchRows = 1024;
    private readonly List<float> _pending = new();
    private int _pendingRows;
    private long _row;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = RowsSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ModelSet)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RowsSet)]
    [Parameter(Mandatory = true, ParameterSetName = ModelSet)]
    public PSObject InputObject { get; set; } = null!;

    protected override void ProcessRecord()
    {
        AddRows();
        // Each piped model predicts the same rows, numbered from 0: flush before the next model comes.
        if (ParameterSetName == ModelSet)
        {
            Flush();
            _row = 0;
        }
    }

    private void AddRows()
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
