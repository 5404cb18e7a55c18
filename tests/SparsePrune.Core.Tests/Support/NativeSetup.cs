using System.Runtime.CompilerServices;

namespace SparsePrune.Tests;

/// <summary>
/// Loads the staged module's LibTorch (the copy build.ps1 made loadable on this machine)
/// before any test touches TorchSharp, exactly as the module initializer does in pwsh.
/// </summary>
internal static class NativeSetup
{
    [ModuleInitializer]
    internal static void Load()
    {
        var dir = Environment.GetEnvironmentVariable("SPARSEPRUNE_NATIVE_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            // tests/SparsePrune.Core.Tests/bin/<cfg>/<tfm>/ → repository root → out/SparsePrune
            var probe = new DirectoryInfo(AppContext.BaseDirectory);
            while (probe is not null && !File.Exists(Path.Combine(probe.FullName, "build.ps1"))) probe = probe.Parent;
            dir = probe is null ? "" : Path.Combine(probe.FullName, "out", "SparsePrune");
        }
        if (!Directory.Exists(dir))
            throw new InvalidOperationException($"The staged module '{dir}' is missing: run 'dotnet pwsh ./build.ps1 build' first.");
        NativeLibraries.LoadFrom(dir);
    }
}
