using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Mlp: predictions for raw input rows (arrays of numbers or objects with the feature properties).</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Mlp", DefaultParameterSetName = ModelSet)]
[OutputType(typeof(ClassPrediction), typeof(RegressionPrediction), typeof(PSObject))]
public sealed class InvokeMlpCommand : SparsePruneCmdlet
{
    /// <summary>Rows from the pipeline, the model named: Import-Csv x.csv | Invoke-Mlp $model.</summary>
    private const string RowsSet = "Rows";
    /// <summary>The model from the pipeline, as every other model cmdlet takes it: $model | Invoke-Mlp -InputObject $rows.</summary>
    private const string ModelSet = "Model";

    // Rows per forward pass. Each pass pays LibTorch's per-call cost and, on a busy machine, a
    // wait at every parallel operation for a thread the OS has put aside: scoring 100,000 rows in
    // passes of 1024 took seconds there against a fraction with 8192, while on an idle machine
    // 4096 cost ~0.04 s more than 1024 per 65,000 rows (bench/scoring.ps1).
    private const int BatchRows = 4096;

    // The batch being filled: raw feature values row-major, and for -IncludeInput each row's
    // shape and property values. At most BatchRows rows are held, whatever the input's length.
    private float[] _batch = Array.Empty<float>();
    private readonly RowShape?[] _shapes = new RowShape?[BatchRows];
    private readonly object?[]?[] _values = new object?[BatchRows][];
    private int _pendingRows;
    private long _row;

    // Set up per model (a piped model may differ from the one before).
    private Mlp? _preparedFor;
    private string[] _features = Array.Empty<string>();
    private ScoredRowLayout? _layout;
    private RowShape? _arrayShape;
    private RowShape? _lastShape;

    // Scratch for reading one row's properties.
    private readonly List<string> _names = new();
    private readonly List<object?> _read = new();

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = RowsSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ModelSet)]
    public Mlp Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RowsSet)]
    [Parameter(Mandatory = true, ParameterSetName = ModelSet)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>
    /// Emit each input row's properties followed by the prediction's (one property per class),
    /// ready for Export-Csv, instead of ClassPrediction/RegressionPrediction objects.
    /// </summary>
    [Parameter]
    public SwitchParameter IncludeInput { get; set; }

    protected override void ProcessRecord()
    {
        Prepare();
        AddRows();
        // Each piped model predicts the same rows, numbered from 0: flush before the next model comes.
        if (ParameterSetName == ModelSet)
        {
            Flush();
            _row = 0;
        }
    }

    protected override void EndProcessing() => Flush();

    private void Prepare()
    {
        if (ReferenceEquals(_preparedFor, Model)) return;
        Flush();
        _preparedFor = Model;
        _batch = new float[BatchRows * Model.InputFeatures];
        _features = Model.FeatureNames ?? Array.Empty<string>();
        _lastShape = null;
        _arrayShape = null;
        _layout = null;
        if (IncludeInput)
        {
            _layout = ScoredRowLayout.For(Model, out var clash);
            if (_layout is null)
                Fail("ClassNamesCollide", ErrorKind.InvalidArgument,
                    $"Two classes of model '{Model.Name}' would both give the property '{clash}' (class names that differ only in case); -IncludeInput needs one property per class.", Model);
        }
    }

    private void AddRows()
    {
        // -InputObject @(1,2,3) is one row; -InputObject $rows (arrays or objects) is many. A
        // dictionary is one row whatever it holds.
        if (InputObject.BaseObject is IEnumerable many and not string and not IDictionary)
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

    /// <summary>The 1-based number of the row being read, as error messages give it.</summary>
    private long RowNumber => _row + _pendingRows + 1;

    private void AddRow(PSObject input)
    {
        int f = Model.InputFeatures;
        var target = _batch.AsSpan(_pendingRows * f, f);
        var value = input.BaseObject;
        if (value is IEnumerable enumerable and not string and not IDictionary)
            ReadArrayRow(enumerable, target, input);
        else
            ReadNamedRow(input, target);
        _pendingRows++;
        if (_pendingRows >= BatchRows) Flush();
    }

    private void ReadArrayRow(IEnumerable enumerable, Span<float> target, PSObject input)
    {
        _read.Clear();
        foreach (var v in enumerable) _read.Add(v);
        if (_read.Count != target.Length)
            FailRow("FeatureCountMismatch", $"Row {RowNumber} has {_read.Count} values; model '{Model.Name}' takes {target.Length}.", input);
        for (int k = 0; k < target.Length; k++) target[k] = ToNumber(_read[k], $"element {k}");
        if (IncludeInput)
        {
            _arrayShape ??= RowShape.For(ScoredRowLayout.ArrayNames(Model), Array.Empty<string>(), _layout!.Reserved);
            Keep(_arrayShape);
        }
    }

    private void ReadNamedRow(PSObject input, Span<float> target)
    {
        if (Model.FeatureNames is null)
            FailRow("FeatureNamesUnknown",
                $"Model '{Model.Name}' has not been trained on a data set with named features; pipe arrays of {Model.InputFeatures} numbers instead.", input);
        // Without -IncludeInput only the features are needed: an object of some .NET type is read
        // feature by feature (its other properties may be costly to get). Rows of Import-Csv and
        // [pscustomobject], and dictionaries, are read whole, once, and matched by shape.
        if (!IncludeInput && input.BaseObject is not PSCustomObject and not IDictionary)
        {
            for (int k = 0; k < _features.Length; k++)
            {
                var property = input.Properties[_features[k]];
                if (property is null) FailMissing(_features[k], input);
                target[k] = ToNumber(property!.Value, $"property '{_features[k]}'");
            }
            return;
        }
        ReadProperties(input);
        var shape = _lastShape is not null && _lastShape.Matches(_names) ? _lastShape : NewShape(input);
        for (int k = 0; k < target.Length; k++)
            target[k] = ToNumber(_read[shape.FeatureAt[k]], $"property '{_features[k]}'");
        if (IncludeInput) Keep(shape);
    }

    /// <summary>Reads the row's names and values, in its order, into _names and _read.</summary>
    private void ReadProperties(PSObject input)
    {
        _names.Clear();
        _read.Clear();
        if (input.BaseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry e in dictionary)
            {
                _names.Add(e.Key as string ?? Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "");
                _read.Add(e.Value);
            }
            return;
        }
        if (InstanceProperties.TryRead(input, _names, _read)) return;
        foreach (var p in input.Properties)
        {
            _names.Add(p.Name);
            object? v;
            // A property whose getter fails is read as missing, as Export-Csv writes it.
            try { v = p.Value; }
            catch (GetValueException) { v = null; }
            _read.Add(v);
        }
    }

    private RowShape NewShape(PSObject input)
    {
        var shape = RowShape.For(_names, _features, _layout?.Reserved ?? (IReadOnlyCollection<string>)Array.Empty<string>());
        if (shape.MissingFeature is { } missing) FailMissing(missing, input);
        if (IncludeInput)
        {
            if (shape.Collision is { } taken)
                FailRow("InputPropertyCollides",
                    $"Row {RowNumber} already has a property '{taken}', a name -IncludeInput gives to the prediction; rename or drop it first (for example Select-Object -ExcludeProperty '{taken}').", input);
            if (shape.Duplicate is { } twice)
                FailRow("InvalidInputValue", $"Row {RowNumber} has the property '{twice}' twice (names differ only in case); an output object can carry it once.", input);
            if (shape.Names.Any(string.IsNullOrEmpty))
                FailRow("InvalidInputValue", $"Row {RowNumber} has a property with an empty name, which an output object cannot carry.", input);
        }
        _lastShape = shape;
        return shape;
    }

    private void Keep(RowShape shape)
    {
        _shapes[_pendingRows] = shape;
        _values[_pendingRows] = _read.ToArray();
    }

    private void FailMissing(string feature, PSObject input) =>
        FailRow("FeaturePropertyNotFound",
            $"Row {RowNumber} has no property '{feature}'; model '{Model.Name}' needs {string.Join(", ", _features.Take(8))}{(_features.Length > 8 ? ", …" : "")}.", input);

    /// <summary>
    /// Ends the pipeline over a bad row: the rows before it are predicted and written first, so
    /// the output holds every row up to the one named, and nothing after it.
    /// </summary>
    private void FailRow(string errorId, string message, object? target)
    {
        Flush();
        Fail(errorId, ErrorKind.InvalidArgument, message, target);
    }

    private void Flush()
    {
        if (_pendingRows == 0) return;
        var rows = _pendingRows;
        var model = _preparedFor ?? Model;
        int f = model.InputFeatures;
        // Counted as done before the work, so that a failing row named later keeps its number.
        _pendingRows = 0;
        var first = _row;
        _row += rows;
        if (!IncludeInput)
        {
            var raw = rows == BatchRows ? _batch : _batch.AsSpan(0, rows * f).ToArray();
            WriteObject(Guard(model, () => Predictor.Predict(model, raw, rows, first)), enumerateCollection: true);
            return;
        }
        var scores = Guard(model, () => Predictor.Scores(model, _batch, rows));
        var layout = _layout!;
        for (int i = 0; i < rows; i++)
        {
            WriteObject(Scored(layout, _shapes[i]!, _values[i]!, scores, i));
            _shapes[i] = null;
            _values[i] = null;
        }
    }

    /// <summary>One output row: the input's properties, in its order, then the prediction's.</summary>
    private static PSObject Scored(ScoredRowLayout layout, RowShape shape, object?[] input, double[] scores, int i)
    {
        var row = new PSObject();
        var properties = row.Properties;
        // PSObject.Properties.Add copies the member it is given, so one note per column serves
        // every row: set its value, add it. The names were checked once for the shape (none
        // twice, none taken by the prediction), so each goes in pre-validated.
        var notes = shape.Notes(layout);
        for (int j = 0; j < input.Length; j++) Add(properties, notes[j], input[j]);
        int at = input.Length;
        if (!layout.Classifier)
        {
            Add(properties, notes[at], scores[i]);
            return row;
        }
        int c = layout.Labels.Length;
        var p = scores.AsSpan(i * c, c);
        int best = Predictor.ArgMax(p);
        Add(properties, notes[at++], layout.Labels[best]);
        Add(properties, notes[at++], p[best]);
        for (int k = 0; k < c; k++) Add(properties, notes[at++], p[k]);
        return row;
    }

    private static void Add(PSMemberInfoCollection<PSPropertyInfo> properties, PSNoteProperty note, object? value)
    {
        note.Value = value;
        properties.Add(note, true);
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
        {
            var shown = value is null || value is string { Length: 0 } ? "empty" : $"'{value}'";
            FailRow("InvalidInputValue", $"Row {RowNumber}: {what} is {shown}, not a finite number.", value);
        }
        return (float)d;
    }

    private static bool TryConvert(IConvertible c, out double d)
    {
        try { d = c.ToDouble(CultureInfo.InvariantCulture); return true; }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException) { d = double.NaN; return false; }
    }
}
