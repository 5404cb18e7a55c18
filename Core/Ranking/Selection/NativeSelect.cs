using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Lowest-k selection over one or more layers without sorting and without copying the scores:
/// a radix select on the bit patterns of the magnitudes. For a non-negative float the pattern,
/// read as an unsigned integer, orders like the value, so key = bits &amp; 0x7FFFFFFF ranks |w|.
/// Three histogram passes (11, 11 and 9 bits of the 31-bit key, each over the weights whose
/// key starts with the digits found so far) find the k-th key K and how many of the weights
/// equal to K are needed; the last pass writes the masks: every key below K, and the first
/// needed ties in layer, then flat index order (the order of cat + kthvalue's reference path,
/// <see cref="Ranking.LowestK"/>). The same pass counts what a plan reports. Work is split
/// into chunks run on LibTorch's thread count; all memory is the tensors' own.
/// </summary>
internal static unsafe class NativeSelect
{
    private const uint Excluded = uint.MaxValue;
    private const long ChunkSize = 1 << 20;
    private static readonly (int Shift, int Bits)[] Digits = { (20, 11), (9, 11), (0, 9) };

    /// <summary>
    /// What to choose in a group of layers ranked together: the <see cref="K"/> lowest, or with
    /// a <see cref="Threshold"/> every weight whose magnitude is below it.
    /// </summary>
    public readonly record struct Group(int[] Views, long K, float? Threshold = null);

    /// <summary>Counts of one layer after <see cref="Select"/>.</summary>
    public readonly record struct LayerCounts(long Masked, long Changed, long ZeroBefore, long ZeroAfter);

    /// <summary>A cut: every key below <see cref="Key"/>, and <see cref="Ties"/> of those equal to it.</summary>
    private readonly record struct Cut(uint Key, long Ties);

    private readonly record struct Chunk(int View, long Start, long Length, int Group);

    /// <summary>
    /// Chooses within each group, writes keep masks (bool: false = masked) to
    /// <paramref name="keepOut"/> (one address per view) and returns each view's counts:
    /// masked weights, positions where the mask changes, zero weights present before and after.
    /// </summary>
    public static LayerCounts[] Select(LayerView[] views, IReadOnlyList<Group> groups, nint[] keepOut, int threads)
    {
        // Every mask is written whole: each view belongs to exactly one group.
        if (groups.SelectMany(g => g.Views).OrderBy(v => v).SequenceEqual(Enumerable.Range(0, views.Length)) is false)
            throw new ArgumentException("Every layer must be in exactly one group.", nameof(groups));
        var chunks = new List<Chunk>();
        foreach (var g in Enumerable.Range(0, groups.Count))
            foreach (var v in groups[g].Views.OrderBy(v => v))
                for (long s = 0; s < views[v].Count; s += ChunkSize)
                    chunks.Add(new Chunk(v, s, Math.Min(ChunkSize, views[v].Count - s), g));
        var all = chunks.ToArray();

        // Each chunk's share of its group's ties, in chunk (= layer, index) order.
        var tieBudget = new long[all.Length];
        var cuts = new Cut[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            var indices = Enumerable.Range(0, all.Length).Where(c => all[c].Group == g).ToArray();
            var (cut, tiesPerChunk) = FindCut(views, all, indices, groups[g], threads);
            cuts[g] = cut;
            long left = cut.Ties;
            for (int j = 0; j < indices.Length && tiesPerChunk is not null; j++)
            {
                long take = Math.Min(left, tiesPerChunk[j]);
                tieBudget[indices[j]] = take;
                left -= take;
            }
        }

        var counts = new LayerCounts[all.Length];
        Parallel.For(0, all.Length, Options(threads), c =>
        {
            var chunk = all[c];
            counts[c] = WriteChunk(views[chunk.View], chunk.Start, chunk.Length, cuts[chunk.Group], tieBudget[c], keepOut[chunk.View]);
        });
        var result = new LayerCounts[views.Length];
        for (int c = 0; c < all.Length; c++)
        {
            var r = result[all[c].View];
            var k = counts[c];
            result[all[c].View] = new LayerCounts(r.Masked + k.Masked, r.Changed + k.Changed, r.ZeroBefore + k.ZeroBefore, r.ZeroAfter + k.ZeroAfter);
        }
        return result;
    }

    private static (Cut Cut, long[]? TiesPerChunk) FindCut(LayerView[] views, Chunk[] all, int[] indices, Group group, int threads)
    {
        if (group.Threshold is { } t) return (new Cut(KeyOf(t), 0), null);
        long need = group.K;
        if (need <= 0) return (new Cut(0, 0), null);
        uint prefix = 0;
        int prefixShift = 32;
        for (int p = 0; p < Digits.Length; p++)
        {
            var (shift, bits) = Digits[p];
            int buckets = 1 << bits;
            var hist = new uint[indices.Length * buckets];
            uint filterPrefix = prefix;
            int filterShift = prefixShift;
            Parallel.For(0, indices.Length, Options(threads), j =>
            {
                var chunk = all[indices[j]];
                HistogramChunk(views[chunk.View], chunk.Start, chunk.Length, shift, buckets - 1, filterShift, filterPrefix, hist.AsSpan(j * buckets, buckets));
            });
            var total = new long[buckets];
            for (int j = 0; j < indices.Length; j++)
                for (int b = 0; b < buckets; b++) total[b] += hist[j * buckets + b];
            long below = 0;
            int digit = 0;
            while (digit < buckets && below + total[digit] < need) below += total[digit++];
            // Fewer candidates than asked for: every weight in scope is chosen.
            if (digit == buckets) return (new Cut(0x80000000u, 0), null);
            need -= below;
            prefix = (prefix << bits) | (uint)digit;
            prefixShift = shift;
            // The whole bucket is needed: everything below its upper end, no ties to split.
            if (need == total[digit]) return (new Cut((prefix + 1) << shift, 0), null);
            if (p == Digits.Length - 1)
            {
                var ties = new long[indices.Length];
                for (int j = 0; j < indices.Length; j++) ties[j] = hist[j * buckets + digit];
                return (new Cut(prefix, need), ties);
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>The key a magnitude below <paramref name="threshold"/> stays under (|w| &lt; t ⇔ key(w) &lt; key(t)).</summary>
    private static uint KeyOf(float threshold) => BitConverter.SingleToUInt32Bits(threshold) & 0x7FFFFFFFu;

    /// <summary>
    /// Where keys and values come from. Struct implementations make the JIT compile one loop
    /// per kind, with no per-element test for absent tensors in the common case.
    /// </summary>
    private interface IKeys
    {
        /// <summary>The ranking key, or <see cref="Excluded"/> for a deleted connection.</summary>
        uint Key(long i);
        /// <summary>The underlying value (Weight + MaskedValues).</summary>
        float Value(long i);
        /// <summary>The live weight (0 where masked).</summary>
        float Live(long i);
    }

    /// <summary>A layer with no mask, no deletions and no separate scores: key = |w|.</summary>
    private readonly struct PlainKeys : IKeys
    {
        private readonly float* _w;
        public PlainKeys(LayerView v) => _w = (float*)v.Weight;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Key(long i) => BitConverter.SingleToUInt32Bits(_w[i]) & 0x7FFFFFFFu;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Value(long i) => _w[i];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Live(long i) => _w[i];
    }

    /// <summary>Any layer: values behind a mask, deleted connections, random scores.</summary>
    private readonly struct GeneralKeys : IKeys
    {
        private readonly float* _w, _h, _s;
        private readonly byte* _d;
        public GeneralKeys(LayerView v) { _w = (float*)v.Weight; _h = (float*)v.MaskedValues; _s = (float*)v.Scores; _d = (byte*)v.Deleted; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Key(long i)
        {
            if (_d != null && _d[i] != 0) return Excluded;
            return BitConverter.SingleToUInt32Bits(_s != null ? _s[i] : Value(i)) & 0x7FFFFFFFu;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Value(long i) => _h != null ? _w[i] + _h[i] : _w[i];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Live(long i) => _w[i];
    }

    private static bool IsPlain(LayerView v) => v.MaskedValues == 0 && v.Deleted == 0 && v.Scores == 0;

    private static void HistogramChunk(LayerView v, long start, long length, int shift, int digitMask, int filterShift, uint filterPrefix, Span<uint> hist)
    {
        if (IsPlain(v)) Histogram(new PlainKeys(v), start, start + length, shift, (uint)digitMask, filterShift, filterPrefix, hist);
        else Histogram(new GeneralKeys(v), start, start + length, shift, (uint)digitMask, filterShift, filterPrefix, hist);
    }

    // Optimized at once: each call runs long loops only once, so tiered compilation's first,
    // unoptimized code would do most of the work.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Histogram<TKeys>(TKeys keys, long start, long end, int shift, uint digitMask, int filterShift, uint filterPrefix, Span<uint> hist)
        where TKeys : struct, IKeys
    {
        if (filterShift == 32)
        {
            for (long i = start; i < end; i++)
            {
                uint key = keys.Key(i);
                if (key != Excluded) hist[(int)((key >> shift) & digitMask)]++;
            }
            return;
        }
        for (long i = start; i < end; i++)
        {
            uint key = keys.Key(i);
            if (key != Excluded && key >> filterShift == filterPrefix) hist[(int)((key >> shift) & digitMask)]++;
        }
    }

    private static LayerCounts WriteChunk(LayerView v, long start, long length, Cut cut, long ties, nint keepOut) => IsPlain(v)
        ? Write(new PlainKeys(v), (byte*)v.Keep, start, start + length, cut, ties, (byte*)keepOut)
        : Write(new GeneralKeys(v), (byte*)v.Keep, start, start + length, cut, ties, (byte*)keepOut);

    /// <summary>
    /// Writes one chunk's keep mask: keys below the cut, and the chunk's share of the ties at it,
    /// are masked. Counts masked weights, changed mask entries, and present weights that are
    /// zero now (live value 0) and after (masked, or underlying value 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LayerCounts Write<TKeys>(TKeys keys, byte* old, long start, long end, Cut cut, long ties, byte* keep)
        where TKeys : struct, IKeys
    {
        long masked = 0, changed = 0, zeroBefore = 0, zeroAfter = 0;
        uint k = cut.Key;
        for (long i = start; i < end; i++)
        {
            uint key = keys.Key(i);
            bool hide = key < k;
            if (key == k && ties > 0) { ties--; hide = true; }
            int h = hide ? 1 : 0;
            keep[i] = (byte)(h ^ 1);
            masked += h;
            if (old != null) changed += old[i] ^ (h ^ 1);
            else changed += h;
            // Deleted connections (the excluded key) are not present: they count in neither.
            int present = key == Excluded ? 0 : 1;
            zeroBefore += present & (keys.Live(i) == 0f ? 1 : 0);
            zeroAfter += present & (h | (keys.Value(i) == 0f ? 1 : 0));
        }
        return new LayerCounts(masked, changed, zeroBefore, zeroAfter);
    }

    /// <summary>
    /// Moves values between a layer's weights and hidden values where the keep mask changes from
    /// <paramref name="oldKeep"/> (0: all kept) to <paramref name="newKeep"/>: the two are
    /// swapped there, so a weight newly masked moves behind the mask and a hidden one comes back,
    /// bit for bit. The same call with the same masks undoes it. With
    /// <paramref name="fillHidden"/> the hidden tensor is fresh (its contents undefined) and the
    /// old mask is none: it is written whole (the moved weights, 0 elsewhere).
    /// </summary>
    public static void Exchange(nint weight, nint hidden, nint oldKeep, nint newKeep, long count, bool fillHidden, int threads)
    {
        long chunks = (count + ChunkSize - 1) / ChunkSize;
        Parallel.For(0L, chunks, Options(threads), c =>
        {
            long start = c * ChunkSize, end = Math.Min(count, start + ChunkSize);
            if (fillHidden) Fill((uint*)weight, (uint*)hidden, (byte*)newKeep, start, end);
            else Swap((uint*)weight, (uint*)hidden, (byte*)oldKeep, (byte*)newKeep, start, end);
        });
    }

    // Bit operations instead of branches: which entries move is as unpredictable as the mask.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill(uint* w, uint* h, byte* keep, long start, long end)
    {
        for (long i = start; i < end; i++)
        {
            uint hideBits = (uint)keep[i] - 1u; // all ones where masked (keep is 0 or 1)
            uint v = w[i];
            h[i] = v & hideBits;
            w[i] = v & ~hideBits;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Swap(uint* w, uint* h, byte* oldKeep, byte* newKeep, long start, long end)
    {
        for (long i = start; i < end; i++)
        {
            uint differ = 0u - (uint)((oldKeep == null ? 1 : oldKeep[i]) ^ newKeep[i]);
            uint a = w[i], b = h[i], x = (a ^ b) & differ;
            w[i] = a ^ x;
            h[i] = b ^ x;
        }
    }

    private static ParallelOptions Options(int threads) => new() { MaxDegreeOfParallelism = Math.Max(1, threads) };
}
