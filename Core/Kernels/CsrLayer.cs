using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A linear layer's non-zero weights in compressed sparse row form (per output row: column
/// indices and values), with its bias: what the sparse kernel multiplies with. Built from the
/// layer's live weights (masked and deleted ones are zero and left out), so it computes the
/// same function as the dense layer.
/// </summary>
internal sealed class CsrLayer
{
    private CsrLayer(int rows, int cols, int[] rowStart, int[] columns, float[] values, float[] bias)
    {
        Rows = rows; Cols = cols; RowStart = rowStart; Columns = columns; Values = values; Bias = bias;
    }

    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Row r's entries are [RowStart[r], RowStart[r + 1]).</summary>
    public int[] RowStart { get; }
    public int[] Columns { get; }
    public float[] Values { get; }
    public float[] Bias { get; }
    public long NonZeros => Values.Length;
    public double Density => Rows == 0 || Cols == 0 ? 0 : (double)NonZeros / ((long)Rows * Cols);

    /// <summary>The CSR form of <paramref name="weight"/> (out × in, float32) and <paramref name="bias"/>.</summary>
    public static CsrLayer From(Tensor weight, Tensor bias)
    {
        int rows = (int)weight.shape[0], cols = (int)weight.shape[1];
        var dense = new float[(long)rows * cols];
        NativeCopy.ToArray(weight, dense);
        var b = new float[rows];
        NativeCopy.ToArray(bias, b);
        long nnz = 0;
        foreach (var v in dense) if (v != 0f) nnz++;
        var rowStart = new int[rows + 1];
        var columns = new int[nnz];
        var values = new float[nnz];
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            rowStart[r] = k;
            var row = dense.AsSpan(r * cols, cols);
            for (int c = 0; c < cols; c++)
            {
                if (row[c] == 0f) continue;
                columns[k] = c;
                values[k] = row[c];
                k++;
            }
        }
        rowStart[rows] = k;
        return new CsrLayer(rows, cols, rowStart, columns, values, b);
    }

    /// <summary>y = x Wᵀ + b for <paramref name="x"/> [batch, Cols] (float32, CPU): a new [batch, Rows] tensor.</summary>
    public Tensor Forward(Tensor x, int threads)
    {
        if (x.dim() != 2 || x.shape[1] != Cols || x.dtype != ScalarType.Float32)
            throw new ArgumentException($"The sparse kernel of a {Cols}-input layer takes float32 rows of {Cols} values; got shape [{string.Join(", ", x.shape)}] {x.dtype}.");
        if (!Fits(x.shape[0])) throw new ArgumentException($"A batch of {x.shape[0]} rows is too large for the sparse kernel of a {Cols}x{Rows} layer.");
        int batch = (int)x.shape[0];
        long inCount = (long)batch * Cols, outCount = (long)batch * Rows;
        var input = ArrayPool<float>.Shared.Rent((int)inCount);
        var output = ArrayPool<float>.Shared.Rent((int)outCount);
        try
        {
            using (var scope = NewDisposeScope())
                NativeCopy.ToArray(x.contiguous(), input.AsSpan(0, (int)inCount));
            if (batch == 1) MultiplyVector(input, output, threads);
            else MultiplyBatch(input, output, batch, threads);
            return NativeCopy.Floats(output.AsSpan(0, (int)outCount), new long[] { batch, Rows });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(output);
        }
    }

    /// <summary>y = x Wᵀ + b over row-major managed rows: <paramref name="x"/> [batch, Cols] into <paramref name="y"/> [batch, Rows].</summary>
    internal void Multiply(float[] x, float[] y, int batch, int threads)
    {
        if (batch == 1) MultiplyVector(x, y, threads);
        else MultiplyBatch(x, y, batch, threads);
    }

    /// <summary>Whether a batch of <paramref name="batch"/> rows fits the kernel's buffers (each held in one array).</summary>
    public bool Fits(long batch) => FitsShape(batch, Rows, Cols);

    internal static bool FitsShape(long batch, int rows, int cols) => batch >= 0 && batch * Math.Max(rows, cols) <= Array.MaxLength / 2;

    /// <summary>Rows split into <paramref name="parts"/> ranges of about equal non-zero counts.</summary>
    private int[] Partition(int parts)
    {
        var bounds = new int[parts + 1];
        long total = NonZeros;
        int r = 0;
        for (int p = 1; p < parts; p++)
        {
            long target = total * p / parts;
            while (r < Rows && RowStart[r] < target) r++;
            bounds[p] = r;
        }
        bounds[parts] = Rows;
        return bounds;
    }

    private int PartsFor(int threads, long work) => (int)Math.Clamp(Math.Min(threads, work / 32768 + 1), 1, Math.Max(1, Rows));

    /// <summary>Batch 1: a dot product per row over its non-zeros, four partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyVector(float[] x, float[] y, int threads)
    {
        int parts = PartsFor(threads, NonZeros);
        var bounds = Partition(parts);
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Range(int p)
        {
            var cols = Columns;
            var vals = Values;
            ref float xs = ref MemoryMarshal.GetArrayDataReference(x);
            for (int r = bounds[p]; r < bounds[p + 1]; r++)
            {
                int j = RowStart[r], end = RowStart[r + 1];
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (; j + 4 <= end; j += 4)
                {
                    s0 += vals[j] * Unsafe.Add(ref xs, cols[j]);
                    s1 += vals[j + 1] * Unsafe.Add(ref xs, cols[j + 1]);
                    s2 += vals[j + 2] * Unsafe.Add(ref xs, cols[j + 2]);
                    s3 += vals[j + 3] * Unsafe.Add(ref xs, cols[j + 3]);
                }
                for (; j < end; j++) s0 += vals[j] * Unsafe.Add(ref xs, cols[j]);
                y[r] = Bias[r] + ((s0 + s1) + (s2 + s3));
            }
        }
        if (parts == 1) Range(0);
        else KernelThreads.For(parts, Range);
    }

    /// <summary>
    /// Batch n: the input is transposed to [Cols, n] so that each non-zero scales one contiguous
    /// input column into the row's n outputs (a vectorized axpy), in tiles of the batch that stay in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyBatch(float[] x, float[] y, int batch, int threads)
    {
        const int Tile = 64;
        var xt = ArrayPool<float>.Shared.Rent(checked(Cols * batch));
        try
        {
            // Transposed in blocks of 16 columns, so that reads and writes both stay within a few cache lines.
            for (int c0 = 0; c0 < Cols; c0 += 16)
            {
                int c1 = Math.Min(Cols, c0 + 16);
                for (int b = 0; b < batch; b++)
                    for (int c = c0; c < c1; c++)
                        xt[(long)c * batch + b] = x[(long)b * Cols + c];
            }
            int parts = PartsFor(threads, NonZeros * batch);
            var bounds = Partition(parts);
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Range(int p)
            {
                Span<float> acc = stackalloc float[Tile];
                for (int t0 = 0; t0 < batch; t0 += Tile)
                {
                    int tw = Math.Min(Tile, batch - t0);
                    for (int r = bounds[p]; r < bounds[p + 1]; r++)
                    {
                        var a = acc[..tw];
                        if (!Vector256.IsHardwareAccelerated) RowTileAny(r, xt, batch, t0, a);
                        else if (tw == Tile) RowTile64(r, xt, batch, t0, a);
                        else
                        {
                            // The rest of a batch in register tiles of 16 rows, what is left 8 and 1 at a time.
                            int done = 0;
                            for (; tw - done >= 16; done += 16) RowTile16(r, xt, batch, t0 + done, a[done..]);
                            if (done < tw) RowTileAny(r, xt, batch, t0 + done, a[done..]);
                        }
                        for (int i = 0; i < tw; i++) y[(long)(t0 + i) * Rows + r] = a[i];
                    }
                }
            }
            if (parts == 1) Range(0);
            else KernelThreads.For(parts, Range);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xt);
        }
    }

    /// <summary>
    /// One output row over a full tile of 64 batch rows: eight 8-wide accumulators stay in
    /// registers while the row's non-zeros stream past (each adds its value times 64 inputs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RowTile64(int r, float[] xt, int batch, int t0, Span<float> result)
    {
        var b = Vector256.Create(Bias[r]);
        Vector256<float> a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(xt);
        for (int j = RowStart[r]; j < RowStart[r + 1]; j++)
        {
            var v = Vector256.Create(Values[j]);
            ref float src = ref Unsafe.Add(ref xs, (nint)Columns[j] * batch + t0);
            a0 += v * Vector256.LoadUnsafe(ref src, 0u);
            a1 += v * Vector256.LoadUnsafe(ref src, 8u);
            a2 += v * Vector256.LoadUnsafe(ref src, 16u);
            a3 += v * Vector256.LoadUnsafe(ref src, 24u);
            a4 += v * Vector256.LoadUnsafe(ref src, 32u);
            a5 += v * Vector256.LoadUnsafe(ref src, 40u);
            a6 += v * Vector256.LoadUnsafe(ref src, 48u);
            a7 += v * Vector256.LoadUnsafe(ref src, 56u);
        }
        ref float dst = ref MemoryMarshal.GetReference(result);
        a0.StoreUnsafe(ref dst, 0u); a1.StoreUnsafe(ref dst, 8u); a2.StoreUnsafe(ref dst, 16u); a3.StoreUnsafe(ref dst, 24u);
        a4.StoreUnsafe(ref dst, 32u); a5.StoreUnsafe(ref dst, 40u); a6.StoreUnsafe(ref dst, 48u); a7.StoreUnsafe(ref dst, 56u);
    }

    /// <summary>As <see cref="RowTile64"/> for 16 batch rows (two accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RowTile16(int r, float[] xt, int batch, int t0, Span<float> result)
    {
        var b = Vector256.Create(Bias[r]);
        Vector256<float> a0 = b, a1 = b;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(xt);
        for (int j = RowStart[r]; j < RowStart[r + 1]; j++)
        {
            var v = Vector256.Create(Values[j]);
            ref float src = ref Unsafe.Add(ref xs, (nint)Columns[j] * batch + t0);
            a0 += v * Vector256.LoadUnsafe(ref src, 0u);
            a1 += v * Vector256.LoadUnsafe(ref src, 8u);
        }
        ref float dst = ref MemoryMarshal.GetReference(result);
        a0.StoreUnsafe(ref dst, 0u); a1.StoreUnsafe(ref dst, 8u);
    }

    /// <summary>One output row over a partial tile: the same sums, 8 batch rows at a time where the hardware has 8-wide vectors, then one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RowTileAny(int r, float[] xt, int batch, int t0, Span<float> a)
    {
        a.Fill(Bias[r]);
        int tw = a.Length, wide = Vector256.IsHardwareAccelerated ? tw & ~7 : 0;
        ref float dst = ref MemoryMarshal.GetReference(a);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(xt);
        for (int j = RowStart[r]; j < RowStart[r + 1]; j++)
        {
            float v = Values[j];
            var vv = Vector256.Create(v);
            ref float src = ref Unsafe.Add(ref xs, (nint)Columns[j] * batch + t0);
            int i = 0;
            for (; i < wide; i += 8)
                (Vector256.LoadUnsafe(ref dst, (nuint)i) + vv * Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            for (; i < tw; i++) Unsafe.Add(ref dst, i) += v * Unsafe.Add(ref src, i);
        }
    }
}
