using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// What the tests of pruning runs share: the regression widths they train, floor(r × n) as the
/// design computes it, dense counts, deleted flags and quick training options.
/// </summary>
public static class PruningKit
{
    internal static readonly int[] RegWidths = { 10, 16, 12, 1 };

    /// <summary>floor(r × n) in decimal (r is written so that the product is never a hair below an integer).</summary>
    internal static long Floor(double r, long n) => (long)Math.Floor((decimal)r * n);

    internal static long[] DenseCounts(int[] widths) =>
        Enumerable.Range(0, widths.Length - 1).Select(i => (long)widths[i] * widths[i + 1]).ToArray();

    internal static long Deleted(Mlp model, int layer) => model.State[layer].DeletedCount;

    internal static bool[] DeletedFlags(Mlp model, int layer)
    {
        var d = TestKit.Bools(model.State[layer].Deleted);
        return d.Length == 0 ? new bool[model.State[layer].DenseWeights] : d;
    }

    internal static TrainingOptions Quick(int? seed = 3) => new() { BatchSize = 64, LearningRate = 0.005, Seed = seed };
}
