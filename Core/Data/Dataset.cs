using System.Globalization;

namespace SparsePrune;

/// <summary>
/// A data set with a train and a test split. Features are stored normalized with statistics
/// of the train split (<see cref="Offset"/>, <see cref="Scale"/>); a model trained on it keeps
/// those statistics so that it takes raw rows. Immutable once built.
/// </summary>
public sealed class Dataset
{
    internal Dataset(string name, TaskKind task, string[] featureNames, string[] classNames,
        float[] trainX, float[] trainY, float[] testX, float[] testY,
        Normalization normalization, float[] offset, float[] scale, string? source)
    {
        Name = name;
        Task = task;
        FeatureNames = featureNames;
        ClassNames = classNames;
        TrainX = trainX; TrainY = trainY; TestX = testX; TestY = testY;
        Normalization = normalization;
        Offset = offset;
        Scale = scale;
        Source = source;
    }

    public string Name { get; }
    public TaskKind Task { get; }
    public int Features => FeatureNames.Count;
    /// <summary>Number of classes (0 for regression).</summary>
    public int Classes => Task == TaskKind.Classification ? ClassNames.Count : 0;
    public int TrainCount => TrainY.Length;
    public int TestCount => TestY.Length;
    public Normalization Normalization { get; }
    public string? Source { get; }
    public IReadOnlyList<string> FeatureNames { get; }
    /// <summary>
    /// Whether <see cref="FeatureNames"/> come with the data (a CSV header, object properties, the
    /// embedded sets' documented names): a model then reads the columns by name. False for IDX
    /// images, whose names only number the pixels: such a set meets a model by position.
    /// </summary>
    public bool HasFeatureNames { get; internal init; } = true;
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Features that look like row identifiers (see DatasetLoader): Import-Dataset and ConvertTo-Dataset warn of them.</summary>
    internal IReadOnlyList<string> IdentifierLikeFeatures { get; set; } = Array.Empty<string>();

    internal float[] TrainX { get; }
    /// <summary>Class index (classification) or target value (regression), one per row.</summary>
    internal float[] TrainY { get; }
    internal float[] TestX { get; }
    internal float[] TestY { get; }
    internal float[] Offset { get; }
    internal float[] Scale { get; }

    /// <summary>Whether training may keep this set's train split in native memory (<see cref="NativeTrainSplit"/>).</summary>
    internal bool KeepsNativeCopy { get; private init; } = true;

    private TorchSharp.torch.Tensor? _nativeTrainX, _nativeTrainY;
    private readonly object _nativeGate = new();

    /// <summary>
    /// The train split in native memory (features [rows, features] float32; targets int64 class
    /// indices or float32 values), made on first use and kept for the data set's lifetime, so that
    /// every training run on it indexes batches out of the same tensors instead of copying 60 000
    /// rows into fresh memory first. Owned by this data set: callers must not dispose them. The
    /// data set is immutable, so they never change; they are released with it.
    /// </summary>
    internal (TorchSharp.torch.Tensor X, TorchSharp.torch.Tensor Y) NativeTrainSplit()
    {
        lock (_nativeGate)
        {
            if (_nativeTrainX is null || _nativeTrainY is null)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                _nativeTrainX = NativeCopy.Floats(TrainX, new long[] { TrainCount, Features }).DetachFromDisposeScope();
                _nativeTrainY = (Task == TaskKind.Classification
                    ? TorchSharp.torch.tensor(TrainY).to_type(TorchSharp.torch.ScalarType.Int64)
                    : TorchSharp.torch.tensor(TrainY)).DetachFromDisposeScope();
            }
            return (_nativeTrainX, _nativeTrainY);
        }
    }

    /// <summary>The split metrics are taken on: the test split, or the train split when there is none.</summary>
    internal (float[] X, float[] Y) EvaluationSplit => TestCount > 0 ? (TestX, TestY) : (TrainX, TrainY);

    /// <summary>
    /// Carves a validation split out of the training split (a seeded shuffle; at least one row
    /// stays on each side): the result trains on the rest and evaluates on the validation rows.
    /// Its normalization is this set's, so a model sees the same inputs from both.
    /// </summary>
    internal Dataset SplitValidation(double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw SparsePruneException.Argument("InvalidValidationFraction", $"-ValidationFraction must be above 0 and below 1 (0.1 holds out 10 % of the training rows); got {fraction.ToString(CultureInfo.InvariantCulture)}.");
        int n = TrainCount, f = Features;
        if (n < 2) throw SparsePruneException.BadData("TooFewRows", $"The data set '{Name}' has {n} training row(s); a validation split needs at least 2.");
        int nVal = Math.Clamp((int)Math.Floor(n * fraction), 1, n - 1);
        var (valX, valY, fitX, fitY) = ShuffleSplit(TrainX, TrainY, f, nVal, seed);
        // A split lives for one search: it keeps no native copy that would outlast it until the GC runs.
        return new Dataset($"{Name} (validation split)", Task, FeatureNames.ToArray(), ClassNames.ToArray(),
            fitX, fitY, valX, valY, Normalization, Offset, Scale, Source) { KeepsNativeCopy = false, HasFeatureNames = HasFeatureNames };
    }

    public override string ToString() =>
        $"{Name}: {Task}, {Features} features" + (Task == TaskKind.Classification ? $", {Classes} classes" : "") + $", {TrainCount} train / {TestCount} test";

    // ---- building ---------------------------------------------------------------------

    /// <summary>
    /// Builds a data set from raw rows: splits with a seeded shuffle, or uses the given test
    /// rows when the source has an official split; then normalizes with train statistics.
    /// </summary>
    internal static Dataset Build(string name, TaskKind task, string[] featureNames, string[] classNames,
        float[] x, float[] y, double testFraction, int seed, Normalization normalization, string? source,
        (float[] X, float[] Y)? officialTest = null, bool hasFeatureNames = true)
    {
        int f = featureNames.Length;
        int n = y.Length;
        if (n == 0) throw SparsePruneException.BadData("EmptyDataset", $"The data set '{name}' has no rows: give at least two rows of data.");
        if (f == 0) throw SparsePruneException.BadData("NoFeatures", $"The data set '{name}' has no feature columns: it needs at least one besides the target.");
        if (task == TaskKind.Classification && classNames.Length < 2)
            throw SparsePruneException.BadData("TooFewClasses", $"The data set '{name}' has {classNames.Length} class; a classification needs at least 2 (or give -Task Regression).");
        if (testFraction < 0 || testFraction >= 1 || double.IsNaN(testFraction))
            throw SparsePruneException.Argument("InvalidTestFraction", $"-TestFraction must be at least 0 and below 1; got {testFraction}.");

        float[] trainX, trainY, testX, testY;
        if (officialTest is { } t)
        {
            trainX = x; trainY = y; testX = t.X; testY = t.Y;
        }
        else
        {
            int nTest = (int)Math.Floor(n * testFraction);
            if (n - nTest < 1) nTest = n - 1;
            (testX, testY, trainX, trainY) = ShuffleSplit(x, y, f, nTest, seed);
        }

        var (offset, scale) = Statistics(trainX, f, normalization);
        Apply(trainX, f, offset, scale, featureNames);
        Apply(testX, f, offset, scale, featureNames);
        return new Dataset(name, task, featureNames, classNames, trainX, trainY, testX, testY, normalization, offset, scale, source)
            { HasFeatureNames = hasFeatureNames };
    }

    /// <summary>Rows in a seeded shuffled order: the first <paramref name="first"/> of them, then the rest.</summary>
    private static (float[] FirstX, float[] FirstY, float[] RestX, float[] RestY) ShuffleSplit(float[] x, float[] y, int f, int first, int seed)
    {
        int n = y.Length;
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var firstX = new float[(long)first * f]; var firstY = new float[first];
        var restX = new float[(long)(n - first) * f]; var restY = new float[n - first];
        for (int i = 0; i < n; i++)
        {
            int src = order[i];
            bool isFirst = i < first;
            int dst = isFirst ? i : i - first;
            Array.Copy(x, (long)src * f, isFirst ? firstX : restX, (long)dst * f, f);
            (isFirst ? firstY : restY)[dst] = y[src];
        }
        return (firstX, firstY, restX, restY);
    }

    private static (float[] Offset, float[] Scale) Statistics(float[] x, int f, Normalization normalization)
    {
        var offset = new float[f];
        var scale = Enumerable.Repeat(1f, f).ToArray();
        long n = x.LongLength / f;
        if (normalization == Normalization.None || n == 0) return (offset, scale);
        for (int j = 0; j < f; j++)
        {
            if (normalization == Normalization.Standard)
            {
                double sum = 0, sq = 0;
                for (long i = 0; i < n; i++) sum += x[i * f + j];
                double mean = sum / n;
                for (long i = 0; i < n; i++) { double d = x[i * f + j] - mean; sq += d * d; }
                double std = Math.Sqrt(sq / n);
                offset[j] = (float)mean;
                scale[j] = std > 1e-12 ? (float)std : 1f; // a constant feature stays 0 after centering
            }
            else
            {
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                for (long i = 0; i < n; i++) { var v = x[i * f + j]; if (v < min) min = v; if (v > max) max = v; }
                offset[j] = min;
                double range = (double)max - min;
                scale[j] = range > 1e-12 ? (float)range : 1f;
            }
        }
        return (offset, scale);
    }

    private static void Apply(float[] x, int f, float[] offset, float[] scale, string[] names)
    {
        for (long i = 0; i < x.LongLength; i++)
        {
            int j = (int)(i % f);
            // In double: a feature spanning ±3e38 would overflow float before the division.
            var v = (float)(((double)x[i] - offset[j]) / scale[j]);
            if (!float.IsFinite(v) || !float.IsFinite(scale[j]))
                throw SparsePruneException.BadData("InvalidFeatureValue",
                    $"Feature '{names[j]}' spans more than single precision can hold (its range or spread is above 3.4e38); rescale it before making a data set.");
            x[i] = v;
        }
    }

    /// <summary>
    /// Turns a column of target values into labels: text or a few distinct integers make a
    /// classification (unless <paramref name="task"/> says otherwise), anything else a regression.
    /// </summary>
    internal static (TaskKind Task, string[] Classes, float[] Y) EncodeTarget(IReadOnlyList<string> raw, TaskKind? task, string column)
    {
        var numbers = new double[raw.Count];
        bool allNumeric = true;
        for (int i = 0; i < raw.Count; i++)
        {
            if (!TryParseNumber(raw[i], out numbers[i]) || double.IsNaN(numbers[i]) || Math.Abs(numbers[i]) > float.MaxValue) { allNumeric = false; }
            else if (numbers[i] == 0) numbers[i] = 0; // -0 and 0 are one value (and one class)
        }
        bool fewIntegers = allNumeric && numbers.All(v => v == Math.Floor(v) && Math.Abs(v) < 1e9) && numbers.Distinct().Count() <= 20;
        var kind = task ?? (!allNumeric || fewIntegers ? TaskKind.Classification : TaskKind.Regression);
        if (kind == TaskKind.Regression)
        {
            if (!allNumeric)
            {
                int bad = Enumerable.Range(0, raw.Count).First(i => !TryParseNumber(raw[i], out var v) || double.IsNaN(v) || Math.Abs(v) > float.MaxValue);
                throw SparsePruneException.BadData("InvalidTargetValue",
                    $"Row {bad + 1}: target '{column}' is '{raw[bad]}', not a number; a regression needs numeric targets (or give -Task Classification).");
            }
            return (kind, Array.Empty<string>(), numbers.Select(v => (float)v).ToArray());
        }
        string[] classes = allNumeric
            ? raw.Select((s, i) => (s, v: numbers[i])).GroupBy(p => p.v).OrderBy(g => g.Key).Select(g => g.Key.ToString(CultureInfo.InvariantCulture)).ToArray()
            : raw.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < classes.Length; c++) index[classes[c]] = c;
        var y = new float[raw.Count];
        for (int i = 0; i < raw.Count; i++)
            y[i] = index[allNumeric ? numbers[i].ToString(CultureInfo.InvariantCulture) : raw[i]];
        return (kind, classes, y);
    }

    internal static bool TryParseNumber(string? s, out double value)
    {
        value = double.NaN;
        if (string.IsNullOrWhiteSpace(s)) return false;
        return double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
