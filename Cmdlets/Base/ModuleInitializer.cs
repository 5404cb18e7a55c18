using System.Management.Automation;
using SparsePrune;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Runs when Import-Module loads the binary module: loads the staged LibTorch natives by
/// absolute path before any cmdlet touches TorchSharp.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport()
    {
        var folder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        NativeLibraries.LoadFrom(folder);
    }
}
