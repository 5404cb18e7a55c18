using System.Management.Automation;
using SparsePrune;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Runs when Import-Module loads the binary module: finds this platform's LibTorch natives
/// (<see cref="RuntimeLocator"/>) and loads them by absolute path before any cmdlet touches
/// TorchSharp. A runtime that is missing, of another version or platform, or damaged stops the
/// import with an error naming the command that mends it; the session goes on.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport()
    {
        var folder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        var runtime = NativeRuntime.Current ?? throw RuntimeLocator.NotSupported(NativeRuntime.CurrentRid);
        var locator = RuntimeLocator.ForModule(folder);
        var natives = locator.Locate(runtime);
        try
        {
            NativeLibraries.LoadFrom(natives, runtime);
        }
        catch (DllNotFoundException e)
        {
            var fix = natives == Path.GetFullPath(folder) ? "dotnet pwsh ./build.ps1 build (from the source tree)" : locator.ReinstallCommand(runtime);
            throw new NativeRuntimeException("RuntimeDamaged", e.Message, fix, e);
        }
    }
}
