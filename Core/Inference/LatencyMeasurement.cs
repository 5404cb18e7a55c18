using System.Diagnostics;
using System.Globalization;

namespace SparsePrune;

/// <summary>What Measure-Mlp -Latency reports for one batch size.</summary>
public sealed class LatencyMeasurement
{
    public string Model { get; init; } = "";
    public int BatchSize { get; init; }
    /// <summary>Median time of one forward pass of a whole batch, in milliseconds.</summary>
    public double MedianMs { get; init; }
    public double MinMs { get; init; }
    public double MaxMs { get; init; }
    /// <summary>Median time per row, in microseconds.</summary>
    public double PerRowUs => BatchSize == 0 ? 0 : MedianMs * 1000 / BatchSize;
    public double RowsPerSecond => MedianMs <= 0 ? 0 : BatchSize / (MedianMs / 1000);
    /// <summary>Timed runs (after the warm-up): -Repeat, fewer when the time cap ended the series.</summary>
    public int Runs { get; init; }
    public int Warmup { get; init; }
    /// <summary>The intra-op threads LibTorch and the sparse kernel used.</summary>
    public int Threads { get; init; }
    /// <summary>Per layer, the kernel this batch size ran through.</summary>
    public LayerKernel[] Kernels { get; init; } = Array.Empty<LayerKernel>();
    public double Sparsity { get; init; }
    public long Parameters { get; init; }
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"batch {BatchSize}: {MedianMs:0.###} ms");
}
