using Xunit;

namespace SparsePrune.Tests;

/// <summary>The per-platform table the loader and the package task share (Native/NativeRuntimes.json).</summary>
public class NativeRuntimeTests
{
    [Fact]
    public void EveryShippedPlatformLoadsLibTorchSharpLastAfterLibTorch()
    {
        Assert.Equal(new[] { "linux-x64", "win-x64", "osx-arm64" }, NativeRuntime.All.Select(r => r.Rid));
        foreach (var runtime in NativeRuntime.All)
        {
            Assert.Contains("LibTorchSharp", runtime.TorchSharpLibrary);
            Assert.Equal(runtime.TorchSharpLibrary, runtime.LoadOrder[^1]);
            // LibTorchSharp imports c10 and torch_cpu: both come before it.
            var c10 = runtime.LoadOrder.ToList().FindIndex(f => f.Contains("c10"));
            var torchCpu = runtime.LoadOrder.ToList().FindIndex(f => f.Contains("torch_cpu"));
            Assert.InRange(c10, 0, torchCpu - 1);
            Assert.Equal(runtime.LoadOrder.Count + 2, runtime.Files.Distinct().Count());
            Assert.Equal("SparsePrune.Runtime." + runtime.Rid, runtime.ModuleName);
        }
    }

    [Fact]
    public void ThisMachineIsLinuxX64AndItsRuntimeIsTheOneLoaded()
    {
        Assert.Equal("linux-x64", NativeRuntime.CurrentRid);
        Assert.Same(NativeRuntime.ForRid("linux-x64"), NativeRuntime.Current);
        Assert.Null(NativeRuntime.ForRid("linux-arm64"));
        foreach (var file in NativeRuntime.Current!.LoadOrder)
            Assert.True(File.Exists(Path.Combine(NativeLibraries.LoadedFrom!, file)), file);
    }
}
