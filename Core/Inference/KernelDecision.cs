using System.Diagnostics;
using System.Globalization;

namespace SparsePrune;

/// <summary>One layer's outcome of <see cref="KernelTuner.Optimize"/>.</summary>
public sealed class KernelDecision
{
    public int Layer { get; init; }
    public string Shape { get; init; } = "";
    public double Density { get; init; }
    public int BatchSize { get; init; }
    public double DenseMs { get; init; }
    public double SparseMs { get; init; }
    public LayerKernel Kernel { get; init; }
    public double Speedup => SparseMs <= 0 ? 0 : DenseMs / SparseMs;
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"layer {Layer} ({Shape}, density {Density:P1}): dense {DenseMs:0.###} ms, sparse {SparseMs:0.###} ms at batch {BatchSize} -> {Kernel}");
}
