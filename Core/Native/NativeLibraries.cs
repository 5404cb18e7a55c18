using System.Reflection;
using System.Runtime.InteropServices;

namespace SparsePrune;

/// <summary>
/// Loads the module's own LibTorch by absolute path before TorchSharp's first call, on every
/// platform the same way: each file of <see cref="NativeRuntime.LoadOrder"/> with
/// <see cref="NativeLibrary.Load(string)"/>, imports first. A system LibTorch (Debian's
/// python3-torch puts libtorch_cpu.so 1.13 on the default search path) would otherwise be bound
/// by name; once our copies are loaded, the loader resolves every later request for those names
/// to them (Linux by soname, Windows by module name, macOS by install name, which is how
/// libtorch_cpu.dylib's absolute reference to Homebrew's libomp finds ours).
/// </summary>
public static class NativeLibraries
{
    private static readonly object Gate = new();
    private static string? _loadedFrom;
    private static IntPtr _torchSharpHandle;

    /// <summary>The folder the natives were loaded from, or null before <see cref="LoadFrom"/>.</summary>
    public static string? LoadedFrom => _loadedFrom;

    /// <summary>Loads this platform's natives found in <paramref name="directory"/>; later calls are no-ops.</summary>
    public static void LoadFrom(string directory)
        => LoadFrom(directory, NativeRuntime.Current ?? throw new PlatformNotSupportedException(
            $"SparsePrune has no LibTorch runtime for {NativeRuntime.CurrentRid}."));

    /// <summary>
    /// Loads <paramref name="runtime"/>'s natives from <paramref name="directory"/>; later calls are
    /// no-ops. A file that is missing or that the loader refuses throws
    /// <see cref="DllNotFoundException"/> naming it; nothing is recorded as loaded then, so a call
    /// after the files are mended loads them.
    /// </summary>
    public static void LoadFrom(string directory, NativeRuntime runtime)
    {
        lock (Gate)
        {
            if (_loadedFrom is not null) return;
            var full = Path.GetFullPath(directory);
            RequestReproducibleMkl();
            foreach (var name in runtime.LoadOrder)
            {
                var path = Path.Combine(full, name);
                if (!File.Exists(path))
                    throw new DllNotFoundException($"SparsePrune's native library '{name}' is missing from '{full}'.");
                IntPtr handle;
                try { handle = NativeLibrary.Load(path); }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
                {
                    throw new DllNotFoundException($"SparsePrune's native library '{path}' could not be loaded: {e.Message}", e);
                }
                if (name == runtime.TorchSharpLibrary) _torchSharpHandle = handle;
                _handles.Add(handle);
            }
            TryRouteTorchSharpImports();
            RouteGraphicsImports(full, runtime);
            _loadedFrom = full;
            ApplyThreadSetting();
        }
    }

    // TorchSharp's P/Invokes name "LibTorchSharp"; route them to the handle loaded above so
    // no probing (deps.json, LD_LIBRARY_PATH) can pick another copy.
    private static void TryRouteTorchSharpImports()
    {
        var torchSharp = typeof(TorchSharp.torch).Assembly;
        try
        {
            NativeLibrary.SetDllImportResolver(torchSharp, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set (TorchSharp's own); the loaded soname still wins.
        }
    }

    /// <summary>
    /// The report's charts (ScottPlot on SkiaSharp and HarfBuzzSharp) bind their natives by name,
    /// which PowerShell would look for beside pwsh, not beside the module: route them to the
    /// staged copies. Nothing is loaded until the first chart is drawn.
    /// </summary>
    private static void RouteGraphicsImports(string directory, NativeRuntime runtime)
    {
        foreach (var (assembly, file) in new[] { (typeof(SkiaSharp.SKCanvas).Assembly, runtime.SkiaLibrary), (typeof(HarfBuzzSharp.Blob).Assembly, runtime.HarfBuzzLibrary) })
        {
            // The P/Invokes name "libSkiaSharp" and "libHarfBuzzSharp", without an extension.
            var library = Path.GetFileNameWithoutExtension(file);
            var path = Path.Combine(directory, file);
            try
            {
                NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
                    name == library || name == file ? NativeLibrary.Load(path) : IntPtr.Zero);
            }
            catch (InvalidOperationException)
            {
                // The assembly set its own resolver; it probes the application's folders.
            }
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// MKL (inside libtorch_cpu) picks kernels by the memory alignment of its inputs, so the same
    /// matrix product could differ in the last bits from one call to the next. MKL_CBWR=AUTO,STRICT
    /// makes its results independent of alignment. MKL reads it from the native environment when it
    /// starts, so it is set there before LibTorch loads. A value the user set (in the shell, or with
    /// $env:MKL_CBWR, which only .NET's copy of the environment sees) is kept.
    /// </summary>
    private static void RequestReproducibleMkl()
    {
        var value = Environment.GetEnvironmentVariable("MKL_CBWR");
        // On Windows .NET's environment is the process's own; elsewhere it is a copy.
        if (OperatingSystem.IsWindows()) { Environment.SetEnvironmentVariable("MKL_CBWR", string.IsNullOrWhiteSpace(value) ? "AUTO,STRICT" : value); return; }
        try { SetEnv("MKL_CBWR", string.IsNullOrWhiteSpace(value) ? "AUTO,STRICT" : value, 1); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// LibTorch's results are bit-identical for the same seeds and the same number of threads;
    /// SPARSEPRUNE_THREADS fixes that number (e.g. to compare runs across machines).
    /// </summary>
    public static void ApplyThreadSetting()
    {
        var value = Environment.GetEnvironmentVariable("SPARSEPRUNE_THREADS");
        if (int.TryParse(value, out var threads) && threads > 0) TorchSharp.torch.set_num_threads(threads);
    }

    /// <summary>
    /// The address of an export of the libLibTorchSharp.so loaded above, or zero when it is not
    /// loaded by <see cref="LoadFrom"/> or lacks the symbol (callers then take a slower path).
    /// </summary>
    internal static IntPtr TorchSharpExport(string name)
        => _torchSharpHandle != IntPtr.Zero && NativeLibrary.TryGetExport(_torchSharpHandle, name, out var address) ? address : IntPtr.Zero;

    private static readonly List<IntPtr> _handles = new();

    /// <summary>The address of an export of any native library loaded above (in load order), or zero.</summary>
    internal static IntPtr Export(string name)
    {
        lock (Gate)
            foreach (var handle in _handles)
                if (NativeLibrary.TryGetExport(handle, name, out var address)) return address;
        return IntPtr.Zero;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName.Contains("LibTorchSharp", StringComparison.Ordinal) ? _torchSharpHandle : IntPtr.Zero;

    /// <summary>The file each loaded LibTorch library was mapped from (Linux: /proc/self/maps).</summary>
    public static IReadOnlyList<string> MappedTorchLibraries()
    {
        if (!File.Exists("/proc/self/maps")) return Array.Empty<string>();
        return File.ReadLines("/proc/self/maps")
            .Select(l => { var i = l.IndexOf('/'); return i < 0 ? "" : l[i..]; })
            .Where(p => p.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || p.Contains("libc10", StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }
}
