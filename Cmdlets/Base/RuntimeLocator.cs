using System.Collections;
using System.Globalization;
using System.Management.Automation.Language;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Finds the folder whose natives the module loads, and checks it before anything is loaded
/// (a truncated library could take the host down when the loader maps it):
/// <list type="number">
/// <item>a module built from source (build.ps1 build) has its natives beside its assembly;</item>
/// <item>an installed module (Install-PSResource SparsePrune) has them in the runtime module
/// SparsePrune.Runtime.&lt;rid&gt; of its own version, installed beside it or anywhere on
/// PSModulePath; that module's manifest lists each file with its size.</item>
/// </list>
/// Every failure is a <see cref="NativeRuntimeException"/> that names the fix.
/// </summary>
public sealed class RuntimeLocator
{
    private readonly string _moduleFolder;
    private readonly string _version;
    private readonly IReadOnlyList<string> _modulePaths;

    public RuntimeLocator(string moduleFolder, string version, IReadOnlyList<string> modulePaths)
    {
        _moduleFolder = Path.GetFullPath(moduleFolder);
        _version = version;
        _modulePaths = modulePaths;
    }

    /// <summary>The locator for the loaded module: its folder, its manifest's version, $env:PSModulePath.</summary>
    public static RuntimeLocator ForModule(string moduleFolder)
    {
        var manifest = Path.Combine(moduleFolder, "SparsePrune.psd1");
        var version = File.Exists(manifest) ? ReadManifest(manifest)["ModuleVersion"] as string : null;
        version ??= typeof(RuntimeLocator).Assembly.GetName().Version!.ToString(3);
        var paths = (Environment.GetEnvironmentVariable("PSModulePath") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new RuntimeLocator(moduleFolder, version, paths);
    }

    /// <summary>The folder to load <paramref name="runtime"/>'s natives from.</summary>
    public string Locate(NativeRuntime runtime)
    {
        var beside = runtime.Files.Where(f => File.Exists(Path.Combine(_moduleFolder, f))).ToList();
        if (beside.Count > 0) return CheckBuiltFromSource(runtime, beside);

        var found = FindRuntimeModules();
        var exact = found.FirstOrDefault(m => m.Name == runtime.ModuleName && m.Version == _version);
        if (exact is not null) return Check(runtime, exact);

        var fix = InstallCommand(runtime);
        var sameName = found.Where(m => m.Name == runtime.ModuleName).ToList();
        if (sameName.Count > 0)
            throw new NativeRuntimeException("RuntimeVersionMismatch",
                $"SparsePrune {_version} needs its runtime {runtime.ModuleName} {_version}, but only {Describe(sameName)} is installed (each SparsePrune version runs on the runtime of the same version).", fix);
        var others = found.Where(m => m.Name != runtime.ModuleName).ToList();
        if (others.Count > 0)
            throw new NativeRuntimeException("RuntimeWrongPlatform",
                $"SparsePrune {_version} runs here on {runtime.Rid} and needs {runtime.ModuleName}, but only the runtime for another platform is installed: {Describe(others)}.", fix);
        throw new NativeRuntimeException("RuntimeMissing",
            $"SparsePrune {_version} needs its LibTorch runtime for {runtime.Rid}, the module {runtime.ModuleName} {_version}, which is not installed (looked beside the module and in every PSModulePath folder).", fix);
    }

    /// <summary>The error for a platform SparsePrune ships no runtime for.</summary>
    public static NativeRuntimeException NotSupported(string rid) => new("PlatformNotSupported",
        $"SparsePrune has no LibTorch runtime for {rid}; it runs on {string.Join(", ", NativeRuntime.All.Select(r => r.Rid))}.",
        "run SparsePrune on one of those platforms");

    /// <summary>The command that installs <paramref name="runtime"/> at this module's version.</summary>
    public string InstallCommand(NativeRuntime runtime) => $"Install-PSResource {runtime.ModuleName} -Version {_version}";

    /// <summary>The command that replaces a damaged copy of <paramref name="runtime"/>.</summary>
    public string ReinstallCommand(NativeRuntime runtime) => InstallCommand(runtime) + " -Reinstall";

    private string CheckBuiltFromSource(NativeRuntime runtime, List<string> present)
    {
        var missing = runtime.Files.Except(present).ToList();
        if (missing.Count > 0)
            throw new NativeRuntimeException("RuntimeDamaged",
                $"The module at '{_moduleFolder}' holds some of its natives but not {string.Join(", ", missing)}.",
                "dotnet pwsh ./build.ps1 build (from the source tree)");
        return _moduleFolder;
    }

    private string Check(NativeRuntime runtime, InstalledRuntime module)
    {
        if (module.Platform != runtime.Rid)
            throw new NativeRuntimeException("RuntimeWrongPlatform",
                $"{runtime.ModuleName} {module.Version} at '{module.Folder}' holds the natives of {module.Platform ?? "no known platform"}, not of {runtime.Rid}.",
                ReinstallCommand(runtime));
        foreach (var file in runtime.Files)
        {
            var path = Path.Combine(module.Folder, file);
            if (!module.Sizes.TryGetValue(file, out var expected))
                throw Damaged(runtime, module, $"its manifest does not list {file}");
            if (!File.Exists(path))
                throw Damaged(runtime, module, $"{file} is missing");
            // A link (an install laid out by hand) is judged by the file it points to.
            var info = new FileInfo(path);
            var actual = info.LinkTarget is null ? info.Length : ((FileInfo?)info.ResolveLinkTarget(true))?.Length ?? 0;
            if (actual != expected)
                throw Damaged(runtime, module, string.Format(CultureInfo.InvariantCulture, "{0} has {1:N0} bytes where its manifest says {2:N0}", file, actual, expected));
        }
        return module.Folder;
    }

    private NativeRuntimeException Damaged(NativeRuntime runtime, InstalledRuntime module, string what)
        => new("RuntimeDamaged", $"{runtime.ModuleName} {module.Version} at '{module.Folder}' is damaged: {what}.", ReinstallCommand(runtime));

    private static string Describe(IEnumerable<InstalledRuntime> modules)
        => string.Join("; ", modules.Select(m => $"{m.Name} {m.Version} at '{m.Folder}'"));

    /// <summary>
    /// Every SparsePrune.Runtime.* module in the folders an installed module sits in: the folder
    /// above this module's (Modules/SparsePrune/&lt;version&gt;/ → Modules/) and each PSModulePath folder.
    /// Both the versioned layout (Name/Version/Name.psd1) and the flat one (Name/Name.psd1) count.
    /// </summary>
    private List<InstalledRuntime> FindRuntimeModules()
    {
        var roots = new List<string>();
        var parent = Directory.GetParent(_moduleFolder);
        if (parent?.Parent is { } grandParent) roots.Add(grandParent.FullName);
        if (parent is not null) roots.Add(parent.FullName);
        roots.AddRange(_modulePaths);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<InstalledRuntime>();
        foreach (var root in roots.Where(Directory.Exists))
        {
            foreach (var folder in SafeDirectories(root, NativeRuntime.ModuleNamePrefix + "*"))
            {
                var name = Path.GetFileName(folder);
                var manifests = SafeDirectories(folder, "*").Select(v => Path.Combine(v, name + ".psd1"))
                    .Append(Path.Combine(folder, name + ".psd1"));
                foreach (var manifest in manifests.Where(File.Exists))
                {
                    var full = Path.GetFullPath(manifest);
                    if (seen.Add(full) && InstalledRuntime.TryRead(name, full) is { } module) found.Add(module);
                }
            }
        }
        return found;
    }

    private static IEnumerable<string> SafeDirectories(string folder, string pattern)
    {
        try { return Directory.GetDirectories(folder, pattern); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Array.Empty<string>(); }
    }

    /// <summary>A .psd1 read as data (no code runs), as Import-PowerShellDataFile does.</summary>
    internal static Hashtable ReadManifest(string path)
    {
        var ast = Parser.ParseFile(path, out _, out var errors);
        if (errors.Length > 0) throw new InvalidDataException($"'{path}' is not a valid module manifest: {errors[0].Message}");
        var table = ast.Find(a => a is HashtableAst, false) as HashtableAst
            ?? throw new InvalidDataException($"'{path}' holds no hashtable.");
        return (Hashtable)table.SafeGetValue();
    }

    /// <summary>A runtime module found on disk: its name, version, folder, platform and file sizes.</summary>
    private sealed record InstalledRuntime(string Name, string Version, string Folder, string? Platform, IReadOnlyDictionary<string, long> Sizes)
    {
        public static InstalledRuntime? TryRead(string name, string manifest)
        {
            Hashtable data;
            try { data = ReadManifest(manifest); }
            catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException) { return null; }
            var version = data["ModuleVersion"] as string ?? "?";
            var runtime = (data["PrivateData"] as Hashtable)?["SparsePruneRuntime"] as Hashtable;
            var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
            if (runtime?["Files"] is Hashtable files)
                foreach (DictionaryEntry f in files)
                    sizes[(string)f.Key] = Convert.ToInt64(f.Value, CultureInfo.InvariantCulture);
            return new InstalledRuntime(name, version, Path.GetDirectoryName(manifest)!, runtime?["Platform"] as string, sizes);
        }
    }
}
