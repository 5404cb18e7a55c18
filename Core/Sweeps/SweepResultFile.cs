using System.Globalization;
using System.Text;

namespace SparsePrune;

/// <summary>
/// Result files of a sweep: one JSON file per point in a folder (point-0007.json), written
/// atomically, so that shards run by a batch scheduler, and a sweep stopped half-way, leave only
/// whole results behind; and the reading of such a folder back into results.
/// </summary>
public static class SweepResultFile
{
    /// <summary>No result file is bigger than this (a layer row is a few hundred bytes).</summary>
    private const long MaxFileBytes = 16 << 20;

    public static string FileName(int point) => string.Create(CultureInfo.InvariantCulture, $"point-{point:D4}.json");

    /// <summary>The result file of <paramref name="point"/> in <paramref name="directory"/>, or null when there is none yet.</summary>
    public static SweepResult? TryRead(string directory, int point)
    {
        var path = Path.Combine(directory, FileName(point));
        return File.Exists(path) ? Read(path) : null;
    }

    public static SweepResult Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
            throw SparsePruneException.BadData("CorruptSweepResult", $"'{path}' is {info.Length} bytes; a sweep result file is far smaller, so this is not one.");
        var result = FromBytes(File.ReadAllBytes(path), $"'{path}'");
        if (Path.GetFileName(path) != FileName(result.Point))
            throw SparsePruneException.BadData("CorruptSweepResult", $"'{path}' holds the result of point {result.Point}, whose file is named '{FileName(result.Point)}'; was it renamed?");
        return result;
    }

    /// <summary>A result file's bytes as a result; anything else is CorruptSweepResult naming <paramref name="source"/>.</summary>
    internal static SweepResult FromBytes(byte[] bytes, string source)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw SparsePruneException.BadData("CorruptSweepResult", $"{source} is not UTF-8 text, so not a sweep result."); }
        return SweepResult.FromJson(text, source);
    }

    /// <summary>
    /// Writes the result of a point into <paramref name="directory"/> atomically (a temporary file
    /// renamed into place). A file already there is never replaced: SweepResultExists.
    /// </summary>
    public static string Write(string directory, SweepResult result)
    {
        var full = Path.Combine(Path.GetFullPath(directory), FileName(result.Point));
        try
        {
            ModelFile.WriteAtomically(full, force: false, stream =>
            {
                var bytes = new UTF8Encoding(false).GetBytes(result.ToJson());
                stream.Write(bytes);
            });
        }
        catch (SparsePruneException e) when (e.ErrorId == "ModelFileExists")
        {
            throw new SparsePruneException("SweepResultExists", ErrorKind.ResourceExists,
                $"'{full}' already holds a result of point {result.Point}; another run of the same point wrote it first. It was kept.");
        }
        return full;
    }

    /// <summary>Every result file in <paramref name="directory"/> (point-*.json), in point order.</summary>
    public static IReadOnlyList<SweepResult> ReadAll(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            throw new SparsePruneException("DirectoryNotFound", ErrorKind.ObjectNotFound, $"The folder '{full}' does not exist: give the -ResultPath the sweep or its shards wrote to.");
        return Directory.EnumerateFiles(full, "point-*.json").Order(StringComparer.Ordinal).Select(Read).OrderBy(r => r.Point).ToList();
    }

    /// <summary>
    /// Checks that <paramref name="results"/> are of one sweep (one SweepId) and at most one per
    /// point, and says which points of the grid have none yet.
    /// </summary>
    public static IReadOnlyList<int> Missing(IReadOnlyList<SweepResult> results, string source)
    {
        var sweeps = results.GroupBy(r => r.SweepId).ToList();
        if (sweeps.Count > 1)
            throw SparsePruneException.BadData("MixedSweeps",
                $"{source} holds results of {sweeps.Count} different sweeps ({string.Join(", ", sweeps.Select(g => $"{g.Key}: {g.Count()} point(s)"))}): a sweep's shards must share the model, data set, grid and seed. Keep each sweep's results in a folder of its own.");
        var twice = results.GroupBy(r => r.Point).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw SparsePruneException.BadData("DuplicateSweepPoint", $"{source} holds point {twice.Key} more than once.");
        if (results.Count == 0) return Array.Empty<int>();
        int points = results[0].Points;
        var have = results.Select(r => r.Point).ToHashSet();
        return Enumerable.Range(0, points).Where(p => !have.Contains(p)).ToList();
    }
}
