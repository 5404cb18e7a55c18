using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SparsePrune;

/// <summary>
/// One platform's native libraries: LibTorch and LibTorchSharp in the order they are loaded (each
/// file's imports before it), and the chart libraries (SkiaSharp, HarfBuzzSharp) bound on first
/// use. The table is <c>Native/NativeRuntimes.json</c>, which the package task reads too, so that a
/// runtime package holds exactly what the loader names.
/// </summary>
public sealed class NativeRuntime
{
    private NativeRuntime(string rid, IReadOnlyList<string> loadOrder, string skia, string harfBuzz)
    {
        Rid = rid;
        LoadOrder = loadOrder;
        SkiaLibrary = skia;
        HarfBuzzLibrary = harfBuzz;
    }

    /// <summary>The .NET runtime identifier: linux-x64, win-x64 or osx-arm64.</summary>
    public string Rid { get; }

    /// <summary>LibTorch's libraries and LibTorchSharp, in dependency order; the last is LibTorchSharp.</summary>
    public IReadOnlyList<string> LoadOrder { get; }

    /// <summary>The file TorchSharp's P/Invokes are routed to.</summary>
    public string TorchSharpLibrary => LoadOrder[^1];

    /// <summary>SkiaSharp's native library (ScottPlot draws the report's charts with it).</summary>
    public string SkiaLibrary { get; }

    /// <summary>HarfBuzzSharp's native library (text shaping for the charts).</summary>
    public string HarfBuzzLibrary { get; }

    /// <summary>Every file of this runtime: the load order, then the chart libraries.</summary>
    public IReadOnlyList<string> Files => LoadOrder.Append(SkiaLibrary).Append(HarfBuzzLibrary).ToList();

    /// <summary>The PowerShell module that ships this runtime: SparsePrune.Runtime.&lt;rid&gt;.</summary>
    public string ModuleName => ModuleNamePrefix + Rid;

    /// <summary>What every runtime module's name starts with.</summary>
    public const string ModuleNamePrefix = "SparsePrune.Runtime.";

    /// <summary>Every platform SparsePrune ships a runtime for.</summary>
    public static IReadOnlyList<NativeRuntime> All { get; } = Read();

    /// <summary>The runtime for <paramref name="rid"/>, or null when SparsePrune has none.</summary>
    public static NativeRuntime? ForRid(string rid) => All.FirstOrDefault(r => r.Rid == rid);

    /// <summary>This process's platform as a runtime identifier (e.g. linux-x64, osx-arm64).</summary>
    public static string CurrentRid
    {
        get
        {
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : OperatingSystem.IsLinux() ? "linux" : RuntimeInformation.OSDescription;
            return os + "-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        }
    }

    /// <summary>The runtime for this process's platform, or null when SparsePrune has none for it.</summary>
    public static NativeRuntime? Current => ForRid(CurrentRid);

    private static IReadOnlyList<NativeRuntime> Read()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("SparsePrune.Native.NativeRuntimes.json")
            ?? throw new InvalidOperationException("SparsePrune.Core lacks its embedded NativeRuntimes.json.");
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.GetProperty("runtimes").EnumerateArray()
            .Select(r => new NativeRuntime(
                r.GetProperty("rid").GetString()!,
                r.GetProperty("load").EnumerateArray().Select(f => f.GetString()!).ToList(),
                r.GetProperty("skia").GetString()!,
                r.GetProperty("harfbuzz").GetString()!))
            .ToList();
    }

    public override string ToString() => Rid;
}
