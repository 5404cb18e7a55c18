using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Exact counts and lowest-k selection shared by sparsifying and pruning.</summary>
internal static class Ranking
{
    /// <summary>floor(fraction × n), computed in decimal so that 0.29 × 100 gives 29, not 28.</summary>
    public static long FloorCount(double fraction, long n)
    {
        long count = (long)Math.Floor((decimal)fraction * n);
        // (decimal)0.9999999999999999 rounds to 1; a fraction below 1 never takes all n.
        return fraction < 1 && n > 0 ? Math.Min(count, n - 1) : count;
    }

    /// <summary>
    /// A float 1/0 tensor shaped like <paramref name="scores"/> with 1 at the
    /// <paramref name="k"/> lowest scores; ties go to the lower flat index. Linear time: the
    /// k-th value splits the scores, and among scores equal to it the first ones by index fill
    /// the count (a stable sort gives the same set, several times slower on large layers).
    /// </summary>
    public static Tensor LowestK(Tensor scores, long k)
    {
        using var scope = NewDisposeScope();
        var flat = scores.reshape(-1);
        long n = flat.shape[0];
        Tensor chosen;
        if (k <= 0) chosen = zeros(n, ScalarType.Float32);
        else if (k >= n) chosen = ones(n, ScalarType.Float32);
        else
        {
            var (kth, _) = flat.kthvalue(k, 0);
            var below = flat.lt(kth);
            var tied = flat.eq(kth);
            long fromTies = k - below.count_nonzero().item<long>();
            chosen = below.to_type(ScalarType.Float32);
            if (fromTies > 0)
            {
                // Ties are usually few: take the first fromTies of them by index.
                var tiedIndex = tied.nonzero().reshape(-1);
                chosen.index_fill_(0, tiedIndex.narrow(0, 0, fromTies), 1f);
            }
        }
        return chosen.reshape(scores.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The <paramref name="k"/> lowest scores over several tensors ranked together, but at most
    /// <paramref name="room"/>[i] from tensor i: a tensor that would pass its room gives exactly
    /// its room's lowest, and the rest is ranked again among the others. Ties go to the lower
    /// tensor, then the lower index. One float 1/0 tensor per input.
    /// </summary>
    public static List<Tensor> LowestKCapped(IReadOnlyList<Tensor> scores, long k, IReadOnlyList<long> room) =>
        LowestKCapped(scores, k, room, out _);

    /// <summary>As above; <paramref name="capped"/> lists the tensors held to their room (which wanted more).</summary>
    public static List<Tensor> LowestKCapped(IReadOnlyList<Tensor> scores, long k, IReadOnlyList<long> room, out List<int> capped)
    {
        capped = new List<int>();
        var result = new Tensor?[scores.Count];
        var open = Enumerable.Range(0, scores.Count).ToList();
        while (true)
        {
            using var scope = NewDisposeScope();
            var flat = open.Count == 0 ? zeros(0) : LowestK(cat(open.Select(i => scores[i].reshape(-1)).ToList(), 0), k);
            var pieces = Split(flat, open.Select(i => scores[i].shape).ToList());
            var counts = pieces.Select(p => p.count_nonzero().item<long>()).ToArray();
            var over = open.Where((i, j) => counts[j] > room[i]).ToList();
            if (over.Count == 0)
            {
                for (int j = 0; j < open.Count; j++) result[open[j]] = pieces[j].MoveToOuterDisposeScope();
                break;
            }
            foreach (var i in over)
            {
                capped.Add(i);
                result[i] = LowestK(scores[i], room[i]).MoveToOuterDisposeScope();
                k -= room[i];
                open.Remove(i);
            }
        }
        return result.Select(r => r!).ToList();
    }

    /// <summary>
    /// Uniform random scores from a seeded managed generator (the same seed gives the same scores
    /// everywhere), written straight into the tensor's memory where it can be reached (no
    /// managed copy of a large layer).
    /// </summary>
    public static unsafe Tensor RandomScores(long[] shape, Random rng)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var scores = empty(shape, ScalarType.Float32);
        if (RawTensor.Address(scores, ScalarType.Float32) is var address and not 0)
        {
            var values = (float*)address;
            for (long i = 0; i < n; i++) values[i] = (float)rng.NextDouble();
            return scores;
        }
        scores.Dispose();
        var managed = new float[n];
        for (long i = 0; i < n; i++) managed[i] = (float)rng.NextDouble();
        return tensor(managed, shape);
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
