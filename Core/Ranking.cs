using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Exact counts and lowest-k selection shared by sparsifying and pruning.</summary>
internal static class Ranking
{
    /// <summary>floor(fraction × n), computed in decimal so that 0.29 × 100 gives 29, not 28.</summary>
    public static long FloorCount(double fraction, long n) => (long)Math.Floor((decimal)fraction * n);

    /// <summary>
    /// A float 1/0 tensor shaped like <paramref name="scores"/> with 1 at the
    /// <paramref name="k"/> lowest scores; ties go to the lower flat index (stable sort).
    /// </summary>
    public static Tensor LowestK(Tensor scores, long k)
    {
        using var scope = NewDisposeScope();
        var flat = scores.reshape(-1);
        var chosen = zeros(flat.shape[0], ScalarType.Float32);
        if (k > 0)
        {
            var (_, order) = flat.sort(dim: 0, descending: false, stable: true);
            chosen.index_fill_(0, order.narrow(0, 0, k), 1f);
        }
        return chosen.reshape(scores.shape).DetachFromDisposeScope();
    }

    /// <summary>Uniform random scores from a seeded managed generator (the same seed gives the same scores everywhere).</summary>
    public static Tensor RandomScores(long[] shape, Random rng)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (long i = 0; i < n; i++) values[i] = (float)rng.NextDouble();
        return tensor(values, shape);
    }

    /// <summary>Splits a flat tensor into pieces shaped like <paramref name="shapes"/> (in order).</summary>
    public static List<Tensor> Split(Tensor flat, IReadOnlyList<long[]> shapes)
    {
        var pieces = new List<Tensor>();
        long offset = 0;
        foreach (var shape in shapes)
        {
            long size = shape.Aggregate(1L, (a, b) => a * b);
            pieces.Add(flat.narrow(0, offset, size).reshape(shape));
            offset += size;
        }
        return pieces;
    }
}
