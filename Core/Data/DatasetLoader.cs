using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace SparsePrune;

/// <summary>The built-in data sets and the readers for CSV, IDX and in-memory rows.</summary>
public static class DatasetLoader
{
    public const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";
    public const string MnistFolder = "/usr/share/datasets/mnist";
    public const int SyntheticFeatures = 10;
    public const int SyntheticRows = 1000;

    /// <summary>Digits (embedded), Iris (embedded), Synthetic (generated), FashionMnist or Mnist (IDX folder).</summary>
    public static Dataset Get(string name, DatasetOptions options, string? path = null)
    {
        switch (name.ToLowerInvariant())
        {
            case "digits": return Digits(options);
            case "iris": return Iris(options);
            case "synthetic": return Synthetic(options);
            case "fashionmnist": return FromIdxFolder(path ?? FashionMnistFolder, options, "FashionMnist", FashionMnistClasses);
            case "mnist": return FromIdxFolder(path ?? MnistFolder, options, "Mnist", Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
            default:
                throw SparsePruneException.Argument("UnknownDataset", $"There is no built-in data set '{name}'. Choose Digits, Iris, Synthetic, FashionMnist or Mnist, or use Import-Dataset for a file.");
        }
    }

    private static readonly string[] FashionMnistClasses =
        { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    /// <summary>1797 8×8 handwritten digits (UCI, via scikit-learn), embedded in the module.</summary>
    public static Dataset Digits(DatasetOptions options)
    {
        using var stream = Resource("SparsePrune.Data.digits.csv.gz");
        using var gz = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.ASCII);
        var rows = ReadCsvRows(reader).ToList();
        var header = Enumerable.Range(0, 64).Select(i => $"pixel_{i / 8}_{i % 8}").Append("digit").ToArray();
        return FromTable("Digits", header, rows, header.Length - 1, options with { Task = options.Task ?? TaskKind.Classification }, "embedded: digits.csv.gz");
    }

    /// <summary>150 iris flowers (UCI, via scikit-learn), embedded in the module.</summary>
    public static Dataset Iris(DatasetOptions options)
    {
        using var stream = Resource("SparsePrune.Data.iris.csv");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rows = ReadCsvRows(reader).ToList();
        return FromTable("Iris", rows[0], rows.Skip(1).ToList(), rows[0].Length - 1, options, "embedded: iris.csv");
    }

    /// <summary>
    /// A seeded regression set with 10 features: y depends on x0..x4 (linearly, one product
    /// and one square) and not at all on x5..x9, so a good pruner can find the useless inputs.
    /// </summary>
    public static Dataset Synthetic(DatasetOptions options, int rows = SyntheticRows)
    {
        if (options.Task == TaskKind.Classification)
            throw SparsePruneException.Argument("TaskNotSupported", "The Synthetic data set is a regression; leave -Task out or give Regression.");
        var rng = new Random(options.Seed);
        int f = SyntheticFeatures;
        var x = new float[rows * f];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < f; j++) x[i * f + j] = (float)Gaussian(rng);
            double target = 2.0 * x[i * f] - 1.5 * x[i * f + 1] + x[i * f + 2] * x[i * f + 3] + 0.5 * x[i * f + 4] * x[i * f + 4]
                + 0.1 * Gaussian(rng);
            y[i] = (float)target;
        }
        var names = Enumerable.Range(0, f).Select(j => $"x{j}").ToArray();
        return Dataset.Build("Synthetic", TaskKind.Regression, names, Array.Empty<string>(), x, y,
            options.TestFraction, options.Seed, options.Normalization, "generated");
    }

    private static double Gaussian(Random rng)
    {
        // Box–Muller from a seeded generator: the same seed gives the same data in every process.
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static Stream Resource(string name) =>
        typeof(DatasetLoader).Assembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"The embedded resource {name} is missing from SparsePrune.Core.");

    // ---- CSV ----------------------------------------------------------------------------

    /// <summary>
    /// Reads a CSV file with a header row; the target is <paramref name="targetColumn"/> (default:
    /// the last column); <paramref name="excludeColumns"/> (an ID, a date) are left out of the features.
    /// </summary>
    public static Dataset FromCsv(string path, string? targetColumn, DatasetOptions options, string? name = null, IReadOnlyCollection<string>? excludeColumns = null)
    {
        if (!File.Exists(path)) throw new SparsePruneException("FileNotFound", ErrorKind.ObjectNotFound, $"There is no file '{path}'.");
        List<string[]> rows;
        try
        {
            using var reader = OpenText(path);
            rows = ReadCsvRows(reader).ToList();
        }
        catch (InvalidDataException e)
        {
            throw SparsePruneException.BadData("InvalidCsvFile", $"'{path}' cannot be read as {(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? "gzip-compressed " : "")}CSV text: {e.Message}");
        }
        if (rows.Count == 0) throw SparsePruneException.BadData("EmptyDataset", $"'{path}' is empty: a CSV needs a header row and at least one data row.");
        var header = rows[0];
        // The exact name first, then ignoring case (as PowerShell matches names).
        int Column(string wanted) => Array.FindIndex(header, h => string.Equals(h.Trim(), wanted.Trim(), StringComparison.Ordinal)) is var exact and >= 0
            ? exact : Array.FindIndex(header, h => string.Equals(h.Trim(), wanted.Trim(), StringComparison.OrdinalIgnoreCase));
        var excluded = new HashSet<int>();
        foreach (var column in excludeColumns ?? Array.Empty<string>())
        {
            int c = Column(column);
            if (c < 0)
                throw SparsePruneException.Argument("ExcludedColumnNotFound", $"'{path}' has no column '{column}' to exclude. Its columns are: {string.Join(", ", header)}.");
            excluded.Add(c);
        }
        int target = targetColumn is null ? LastNotExcluded(header.Length, excluded) : Column(targetColumn);
        if (target < 0 && targetColumn is not null)
            throw SparsePruneException.Argument("TargetColumnNotFound", $"'{path}' has no column '{targetColumn}'. Its columns are: {string.Join(", ", header)}.");
        if (target < 0 || excluded.Contains(target))
            throw SparsePruneException.Argument("TargetColumnExcluded", $"-ExcludeColumn leaves out the target column '{(target < 0 ? header[^1] : header[target])}' of '{path}'; name another target with -TargetColumn, or exclude only feature columns.");
        return FromTable(name ?? Path.GetFileNameWithoutExtension(path), header, rows.Skip(1).ToList(), target, options, Path.GetFullPath(path), excluded);
    }

    /// <summary>The last column that is not excluded (the default target), or -1.</summary>
    private static int LastNotExcluded(int columns, HashSet<int> excluded)
    {
        for (int c = columns - 1; c >= 0; c--) if (!excluded.Contains(c)) return c;
        return -1;
    }

    private static StreamReader OpenText(string path)
    {
        Stream s = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) s = new GZipStream(s, CompressionMode.Decompress);
        return new StreamReader(s, Encoding.UTF8);
    }

    /// <summary>Splits CSV text into rows (RFC 4180 quoting; blank lines skipped).</summary>
    internal static IEnumerable<string[]> ReadCsvRows(TextReader reader)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0) continue;
            fields.Clear();
            field.Clear();
            bool quoted = false;
            while (true)
            {
                for (int i = 0; i < line.Length; i++)
                {
                    char c = line[i];
                    if (quoted)
                    {
                        if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                        else if (c == '"') quoted = false;
                        else field.Append(c);
                    }
                    else if (c == '"') quoted = true;
                    else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                    else field.Append(c);
                }
                if (!quoted) break;
                var next = reader.ReadLine();
                if (next is null) break;
                field.Append('\n');
                line = next;
            }
            fields.Add(field.ToString());
            yield return fields.ToArray();
        }
    }

    /// <summary>
    /// Builds a data set from text cells (a header and rows). Every feature must be a finite
    /// number; the target may be text (classes) or numbers.
    /// </summary>
    public static Dataset FromTable(string name, IReadOnlyList<string> header, IReadOnlyList<string[]> rows, int targetIndex, DatasetOptions options, string? source = null,
        IReadOnlySet<int>? excludedColumns = null)
    {
        if (rows.Count == 0) throw SparsePruneException.BadData("EmptyDataset", $"The data set '{name}' has no rows: give at least two rows of data.");
        int columns = header.Count;
        var featureColumns = Enumerable.Range(0, columns).Where(c => c != targetIndex && excludedColumns?.Contains(c) != true).ToArray();
        // A model reads its inputs by name (FeatureMap): two columns of one name could not be told apart.
        var duplicate = featureColumns.Append(targetIndex).GroupBy(c => header[c].Trim(), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw SparsePruneException.BadData("DuplicateColumn",
                $"The data set '{name}' has {duplicate.Count()} columns named '{duplicate.Key}' (names are compared ignoring case); a model matches its inputs by name. Rename them, or leave one out with -ExcludeColumn.");
        var x = new float[(long)rows.Count * featureColumns.Length];
        var target = new string[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.Length != columns)
                throw SparsePruneException.BadData("RaggedRow", $"Data row {i + 1} of '{name}' has {row.Length} fields; the header has {columns}.");
            for (int k = 0; k < featureColumns.Length; k++)
            {
                var cell = row[featureColumns[k]];
                if (!Dataset.TryParseNumber(cell, out var v) || double.IsNaN(v) || Math.Abs(v) > float.MaxValue)
                    throw SparsePruneException.BadData("InvalidFeatureValue",
                        $"Data row {i + 1}, column '{header[featureColumns[k]]}': '{cell}' is not a finite number of single precision (|x| <= 3.4e38). Every feature must be numeric; fix or drop that value, or choose another -TargetColumn.");
                x[(long)i * featureColumns.Length + k] = (float)v;
            }
            target[i] = row[targetIndex].Trim();
        }
        var (task, classes, y) = Dataset.EncodeTarget(target, options.Task, header[targetIndex]);
        var names = featureColumns.Select(c => header[c].Trim()).ToArray();
        var identifiers = IdentifierLikeColumns(x, names, rows.Count);
        var data = Dataset.Build(name, task, names, classes, x, y, options.TestFraction, options.Seed, options.Normalization, source);
        data.IdentifierLikeFeatures = identifiers;
        return data;
    }

    /// <summary>
    /// Feature columns that count rows (every value a different whole number, together a run of
    /// consecutive numbers: 1000, 1001, …): an ID or a row number, not a measurement. A model
    /// would fit noise to them, so the cmdlets warn; they are kept, since the data may mean it.
    /// </summary>
    private static string[] IdentifierLikeColumns(float[] x, string[] names, int rows)
    {
        const int MinRows = 20;
        if (rows < MinRows) return Array.Empty<string>();
        int f = names.Length;
        var found = new List<string>();
        var seen = new HashSet<float>();
        for (int j = 0; j < f; j++)
        {
            seen.Clear();
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            bool counts = true;
            for (int i = 0; i < rows && counts; i++)
            {
                float v = x[(long)i * f + j];
                counts = v == MathF.Round(v) && Math.Abs(v) < 1 << 24 && seen.Add(v);
                min = Math.Min(min, v); max = Math.Max(max, v);
            }
            if (counts && max - min + 1 == rows) found.Add(names[j]);
        }
        return found.ToArray();
    }

    /// <summary>
    /// Builds a data set from objects' property values (ConvertTo-Dataset): numbers are taken
    /// as they are, text is parsed with the invariant culture.
    /// </summary>
    public static Dataset FromObjects(string name, IReadOnlyList<string> featureNames, string targetName,
        IReadOnlyList<object?[]> featureValues, IReadOnlyList<object?> targetValues, DatasetOptions options)
    {
        var header = featureNames.Append(targetName).ToList();
        var rows = new List<string[]>(featureValues.Count);
        for (int i = 0; i < featureValues.Count; i++)
        {
            var cells = new string[header.Count];
            for (int k = 0; k < featureNames.Count; k++) cells[k] = CellText(featureValues[i][k]);
            cells[^1] = CellText(targetValues[i]);
            rows.Add(cells);
        }
        return FromTable(name, header, rows, header.Count - 1, options, "pipeline");
    }

    private static string CellText(object? value) => value switch
    {
        null => "",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    // ---- IDX (MNIST, Fashion-MNIST) ----------------------------------------------------

    /// <summary>True when <paramref name="prefix"/> names IDX files: {prefix}train-images-idx3-ubyte(.gz) exists.</summary>
    public static bool IsIdxPrefix(string prefix) =>
        !Directory.Exists(prefix) && FindIdx(Path.GetDirectoryName(Path.GetFullPath(prefix))!, Path.GetFileName(prefix), "train-images-idx3-ubyte") is not null;

    private static string? FindIdx(string folder, string prefix, string stem)
    {
        foreach (var candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx"), stem.Replace("-idx", ".idx") + ".gz" })
        {
            var p = Path.Combine(folder, prefix + candidate);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>
    /// Reads the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz) from a folder, or
    /// with a prefix ("data/fashion-" reads data/fashion-train-images-idx3-ubyte.gz, …); the
    /// official train/test split is kept.
    /// </summary>
    public static Dataset FromIdxFolder(string folderOrPrefix, DatasetOptions options, string? name = null, string[]? classNames = null)
    {
        string folder = folderOrPrefix, prefix = "";
        if (!Directory.Exists(folderOrPrefix))
        {
            if (!IsIdxPrefix(folderOrPrefix))
                throw new SparsePruneException("DatasetFolderNotFound", ErrorKind.ObjectNotFound,
                    $"There is no folder '{folderOrPrefix}' (nor IDX files with that prefix). Install Fashion-MNIST with 'apt-get install dataset-fashion-mnist', or give -Path a folder that holds the four IDX files.");
            folder = Path.GetDirectoryName(Path.GetFullPath(folderOrPrefix))!;
            prefix = Path.GetFileName(folderOrPrefix);
        }
        string Find(string stem) => FindIdx(folder, prefix, stem)
            ?? throw new SparsePruneException("IdxFileNotFound", ErrorKind.ObjectNotFound,
                $"'{Path.Combine(folder, prefix)}' has no {prefix}{stem}(.gz). An IDX folder needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte.");
        var (trainX, features) = ReadIdxImages(Find("train-images-idx3-ubyte"));
        var trainY = ReadIdxLabels(Find("train-labels-idx1-ubyte"));
        var (testX, testFeatures) = ReadIdxImages(Find("t10k-images-idx3-ubyte"));
        var testY = ReadIdxLabels(Find("t10k-labels-idx1-ubyte"));
        if (trainY.Length * (long)features != trainX.LongLength || testY.Length * (long)testFeatures != testX.LongLength || features != testFeatures)
            throw SparsePruneException.BadData("IdxMismatch", $"The IDX files in '{folder}' do not agree: image and label counts or image sizes differ.");
        // Dataset.Build refuses an empty training set too, but only after a feature is named for
        // every pixel: without images no byte vouches for their size, which may be 2^31.
        if (trainY.Length == 0)
            throw SparsePruneException.BadData("EmptyDataset", $"The IDX files in '{folder}' hold no training images.");
        int classes = (int)Math.Max(trainY.DefaultIfEmpty().Max(), testY.DefaultIfEmpty().Max()) + 1;
        var names = classNames is not null && classNames.Length >= classes ? classNames : Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        int side = (int)Math.Round(Math.Sqrt(features));
        var featureNames = side * side == features
            ? Enumerable.Range(0, features).Select(i => $"pixel_{i / side}_{i % side}").ToArray()
            : Enumerable.Range(0, features).Select(i => $"pixel_{i}").ToArray();
        if (options.Task == TaskKind.Regression)
            throw SparsePruneException.Argument("TaskNotSupported", "IDX image sets are classifications; leave -Task out or give Classification.");
        var defaultName = prefix.Trim('-', '_', '.') is { Length: > 0 } p ? p : Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        return Dataset.Build(name ?? defaultName, TaskKind.Classification, featureNames, names,
            trainX, trainY, 0, options.Seed, options.Normalization, Path.GetFullPath(folder), (testX, testY), hasFeatureNames: false);
    }

    private static byte[] ReadAll(string path)
    {
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(File.OpenRead(path), CompressionMode.Decompress) : File.OpenRead(path);
        using var ms = new MemoryStream();
        try { s.CopyTo(ms); }
        catch (InvalidDataException e) { throw SparsePruneException.BadData("InvalidIdxFile", $"'{path}' is not a readable gzip file: {e.Message}"); }
        return ms.ToArray();
    }

    internal static (float[] X, int Features) ReadIdxImages(string path)
    {
        var b = ReadAll(path);
        if (b.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(b) != 0x00000803)
            throw SparsePruneException.BadData("InvalidIdxFile", $"'{path}' is not an IDX image file (magic 0x00000803, unsigned bytes, 3 dimensions).");
        int n = BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(12));
        // rows × cols fits a long, n × rows × cols may not: compare against the bytes by division.
        long pixels = (long)rows * cols;
        if (n < 0 || rows <= 0 || cols <= 0 || (n > 0 && (b.Length - 16) / pixels < n))
            throw SparsePruneException.BadData("InvalidIdxFile", $"'{path}' is truncated: its header promises {n} images of {rows}x{cols}.");
        long count = n * pixels;
        var x = new float[count];
        for (long i = 0; i < count; i++) x[i] = b[16 + i];
        return (x, (int)pixels);
    }

    internal static float[] ReadIdxLabels(string path)
    {
        var b = ReadAll(path);
        if (b.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(b) != 0x00000801)
            throw SparsePruneException.BadData("InvalidIdxFile", $"'{path}' is not an IDX label file (magic 0x00000801).");
        int n = BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(4));
        if (n < 0 || b.Length - 8 < n) throw SparsePruneException.BadData("InvalidIdxFile", $"'{path}' is truncated: its header promises {n} labels.");
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = b[8 + i];
        return y;
    }
}
