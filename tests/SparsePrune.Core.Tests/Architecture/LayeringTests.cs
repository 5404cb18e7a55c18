using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Core's folders have a direction: a folder may name types of lower floors only (docs/ARCHITECTURE.md,
/// "Floors"). Two folders on one floor do not know each other either. A reference upward is a
/// cycle waiting to happen: whoever changes the upper folder then has to read the lower one too.
/// </summary>
public class LayeringTests
{
    private static readonly string Root = FindRoot();
    private static readonly string CoreDir = Path.Combine(Root, "Core");
    private static readonly Lazy<FloorPlan> Plan = new(() => FloorPlan.Read(Path.Combine(Root, "docs", "ARCHITECTURE.md")));

    [Fact]
    public void EveryCoreSourceFileLiesInAFolderTheFloorPlanNames()
    {
        var unplaced = CoreSources().Keys.Where(f => Plan.Value.EntryOf(FolderOf(f)) is null).ToList();
        Assert.True(unplaced.Count == 0,
            "Give these folders a floor in docs/ARCHITECTURE.md (## Floors) or move the files: " + string.Join(", ", unplaced));
    }

    [Fact]
    public void NoCoreFolderNamesATypeOfItsOwnFloorOrAHigherOne()
    {
        var upward = Upward(CoreSources());
        Assert.True(upward.Count == 0, "References against the floor plan (docs/ARCHITECTURE.md):\n" + string.Join("\n", upward));
    }

    /// <summary>The check itself can fail: a reference planted from Data (floor 1) to the Trainer is found.</summary>
    [Fact]
    public void AnUpwardReferencePlantedInALowFloorIsReported()
    {
        var sources = new Dictionary<string, string>(CoreSources())
        {
            [Path.Combine(CoreDir, "Data", "Planted.cs")] =
                "namespace SparsePrune; internal static class Planted { public static object Up() => typeof(Trainer); }",
        };
        var upward = Upward(sources);
        var planted = Assert.Single(upward, u => u.StartsWith("Core/Data/Planted.cs:", StringComparison.Ordinal));
        Assert.Contains("Data (floor 1) names Trainer of Training (floor", planted);
    }

    private static List<string> Upward(IReadOnlyDictionary<string, string> sources)
    {
        var plan = Plan.Value;
        var found = new List<string>();
        foreach (var r in CoreReferences.Find(sources))
        {
            string? from = plan.EntryOf(FolderOf(r.FromFile)), to = plan.EntryOf(FolderOf(r.TypeFile));
            if (from is null || to is null || from == to) continue;
            int fromFloor = plan.FloorOf(from), toFloor = plan.FloorOf(to);
            if (toFloor >= fromFloor)
                found.Add($"{Path.GetRelativePath(Root, r.FromFile)}:{r.Line}: {from} (floor {fromFloor}) names {r.TypeName} of {to} (floor {toFloor})");
        }
        return found.Distinct().ToList();
    }

    private static Dictionary<string, string> CoreSources() =>
        Directory.EnumerateFiles(CoreDir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(CoreDir, f).Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"))
            .ToDictionary(f => f, File.ReadAllText);

    private static string FolderOf(string file) =>
        Path.GetRelativePath(CoreDir, Path.GetDirectoryName(file)!).Replace(Path.DirectorySeparatorChar, '/') is var d && d == "." ? "" : d;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SparsePrune.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "Core")))
                return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (SparsePrune.psd1 beside Core/) is not above " + AppContext.BaseDirectory);
    }
}
