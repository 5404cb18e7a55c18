using System.Text.RegularExpressions;

namespace SparsePrune.Tests;

/// <summary>
/// The floors of Core as docs/ARCHITECTURE.md lists them: one table row per floor, lowest
/// first, each naming its folders in backticks. The document is the one place the order is
/// written; this reads it so that the test and the page cannot disagree.
/// </summary>
internal sealed class FloorPlan
{
    private static readonly Regex Row = new(@"^\|\s*(\d+)\s*\|([^|]*)\|", RegexOptions.Compiled);
    private static readonly Regex Folder = new(@"`([A-Za-z/]+)/`", RegexOptions.Compiled);

    private readonly Dictionary<string, int> _floorOf = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Folders => _floorOf;

    public static FloorPlan Read(string markdownPath)
    {
        var plan = new FloorPlan();
        bool inTable = false;
        foreach (var line in File.ReadLines(markdownPath))
        {
            if (line.StartsWith("## Floors", StringComparison.Ordinal)) { inTable = true; continue; }
            if (inTable && line.StartsWith("## ", StringComparison.Ordinal)) break;
            if (!inTable) continue;
            var row = Row.Match(line);
            if (!row.Success) continue;
            int floor = int.Parse(row.Groups[1].Value);
            foreach (Match folder in Folder.Matches(row.Groups[2].Value))
                plan._floorOf.Add(folder.Groups[1].Value, floor);
        }
        if (plan._floorOf.Count == 0) throw new InvalidDataException($"{markdownPath} has no floor table under '## Floors'.");
        return plan;
    }

    /// <summary>
    /// The folder entry a file under Core belongs to: the longest listed folder that contains
    /// it (so a subfolder may be listed on a floor of its own), or null when none does.
    /// </summary>
    public string? EntryOf(string relativeFolder)
    {
        string? best = null;
        foreach (var entry in _floorOf.Keys)
            if ((relativeFolder == entry || relativeFolder.StartsWith(entry + "/", StringComparison.Ordinal))
                && (best is null || entry.Length > best.Length))
                best = entry;
        return best;
    }

    public int FloorOf(string entry) => _floorOf[entry];
}
