using Xunit;

namespace SparsePrune.Tests;

/// <summary>The tests run on the staged module's LibTorch, never a system copy.</summary>
public class NativeLoadingTests
{
    [Fact]
    public void LibTorchComesFromTheStagedModule()
    {
        var model = Mlp.Create(new[] { 4, 3, 2 }, seed: 1);
        Assert.Equal(12 + 6, model.Weights);
        var mapped = NativeLibraries.MappedTorchLibraries().Where(p => p.EndsWith("libtorch_cpu.so")).ToList();
        Assert.NotEmpty(mapped);
        Assert.All(mapped, p => Assert.StartsWith(NativeLibraries.LoadedFrom!, p));
    }
}
