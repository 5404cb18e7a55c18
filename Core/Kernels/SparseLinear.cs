using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A linear layer whose present connections are fixed (a keep mask that holds between updates,
/// or deleted connections), for training: its structure in compressed sparse row form, a
/// compressed sparse column copy of the same structure (for the transposed product), and one
/// value per present connection. Four products, each at present positions only:
/// forward y = x Wᵀ + b, input gradient dX = dY W, weight gradient dW[k] = Σ_b dY[b,row k]·X[b,col k]
/// (a product sampled at the structure) and bias gradient Σ_b dY. Unlike <see cref="CsrLayer"/>
/// the structure is the mask's, not the non-zeros': a present weight may be zero (a regrown one).
/// <para>
/// Every product works on transposed operands ([feature, batch]: Xᵀ from the forward pass, dYᵀ
/// in the backward pass), so that each present connection touches one contiguous run of batch
/// values: an axpy into a register tile (forward, input gradient) or a dot product (weight
/// gradient). Work is split into fixed ranges of rows (columns for dX) of about equal
/// non-zero counts, and each output value is summed by one thread in one order: the bits depend
/// on neither timing nor the thread count.
/// </para>
/// </summary>
internal sealed unsafe class SparseLinear
{
    private const int Tile = 64, Block = 16;

    private SparseLinear(int rows, int cols, int[] rowStart, int[] columns, int[] colStart, int[] colRows, int[] colEntry)
    {
        Rows = rows; Cols = cols; RowStart = rowStart; Columns = columns;
        ColStart = colStart; ColRows = colRows; ColEntry = colEntry;
        Values = new float[columns.Length];
        _transposedValues = new float[columns.Length];
    }

    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Row r's present connections are [RowStart[r], RowStart[r + 1]), in column order.</summary>
    public int[] RowStart { get; }
    public int[] Columns { get; }
    /// <summary>Column c's present connections are [ColStart[c], ColStart[c + 1]) of <see cref="ColRows"/>, in row order.</summary>
    public int[] ColStart { get; }
    public int[] ColRows { get; }
    /// <summary>The row-order index (into <see cref="Values"/>) of each column-order entry.</summary>
    public int[] ColEntry { get; }
    /// <summary>The present weights, in row order: what training updates.</summary>
    public float[] Values { get; }
    public int NonZeros => Values.Length;
    public double Density => Rows == 0 || Cols == 0 ? 0 : (double)NonZeros / ((long)Rows * Cols);

    /// <summary>
    /// Whether the products use 8-wide vectors. On by default where the hardware has them; tests
    /// turn it off to run the scalar path a CPU without AVX takes.
    /// </summary>
    public bool Vectorized { get; set; } = Vector256.IsHardwareAccelerated;

    private readonly float[] _transposedValues;

    /// <summary>
    /// The structure of <paramref name="keep"/> (rows × cols, non-zero: present) with the values
    /// of <paramref name="weight"/> there (float32 CPU tensors of one shape).
    /// </summary>
    public static SparseLinear From(Tensor keep, Tensor weight)
    {
        if (keep.dim() != 2 || !keep.shape.SequenceEqual(weight.shape))
            throw new ArgumentException($"The keep mask [{string.Join(", ", keep.shape)}] and the weights [{string.Join(", ", weight.shape)}] differ in shape.");
        int rows = (int)weight.shape[0], cols = (int)weight.shape[1];
        long n = (long)rows * cols;
        if (n > Array.MaxLength) throw new ArgumentException($"A {rows}x{cols} layer is too large for the sparse training kernel.");
        using var scope = NewDisposeScope();
        // Read in place where the tensors' memory can be reached: a managed copy of a large
        // layer's mask and weights would double the memory a training run needs at its start.
        var maskTensor = keep.to_type(ScalarType.Float32).contiguous();
        var weightTensor = weight.detach().contiguous();
        nint ma = RawTensor.Address(maskTensor, ScalarType.Float32, n), wa = RawTensor.Address(weightTensor, ScalarType.Float32, n);
        ReadOnlySpan<float> mask, dense;
        if (ma != 0 && wa != 0) { mask = new ReadOnlySpan<float>((void*)ma, (int)n); dense = new ReadOnlySpan<float>((void*)wa, (int)n); }
        else
        {
            var m = new float[n]; NativeCopy.ToArray(maskTensor, m); mask = m;
            var d = new float[n]; NativeCopy.ToArray(weightTensor, d); dense = d;
        }
        int nnz = 0;
        foreach (var v in mask) if (v != 0f) nnz++;
        var rowStart = new int[rows + 1];
        var columns = new int[nnz];
        var colCount = new int[cols + 1];
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            rowStart[r] = k;
            long offset = (long)r * cols;
            for (int c = 0; c < cols; c++)
            {
                if (mask[(int)(offset + c)] == 0f) continue;
                columns[k++] = c;
                colCount[c + 1]++;
            }
        }
        rowStart[rows] = k;
        var colStart = new int[cols + 1];
        for (int c = 0; c < cols; c++) colStart[c + 1] = colStart[c] + colCount[c + 1];
        var colRows = new int[nnz];
        var colEntry = new int[nnz];
        var next = colStart[..cols];
        for (int r = 0; r < rows; r++)
            for (int j = rowStart[r]; j < rowStart[r + 1]; j++)
            {
                int slot = next[columns[j]]++;
                colRows[slot] = r;
                colEntry[slot] = j;
            }
        var layer = new SparseLinear(rows, cols, rowStart, columns, colStart, colRows, colEntry);
        for (int r = 0; r < rows; r++)
            for (int j = rowStart[r]; j < rowStart[r + 1]; j++)
                layer.Values[j] = dense[(int)((long)r * cols + columns[j])];
        return layer;
    }

    /// <summary>The position (row × cols + col) of each present connection, in row order.</summary>
    public long Position(int entry)
    {
        int r = Array.BinarySearch(RowStart, entry);
        if (r < 0) r = ~r - 1;
        else while (r + 1 < RowStart.Length && RowStart[r + 1] == entry) r++;
        return (long)r * Cols + Columns[entry];
    }

    /// <summary>The dense positions of all present connections, in row order (ascending).</summary>
    public long[] Positions()
    {
        var positions = new long[NonZeros];
        for (int r = 0; r < Rows; r++)
            for (int j = RowStart[r]; j < RowStart[r + 1]; j++) positions[j] = (long)r * Cols + Columns[j];
        return positions;
    }

    /// <summary>Writes the values into <paramref name="weight"/> (rows × cols, row-major) at their positions; other places are left as they are.</summary>
    public void Scatter(float* weight)
    {
        for (int r = 0; r < Rows; r++)
        {
            float* row = weight + (long)r * Cols;
            for (int j = RowStart[r]; j < RowStart[r + 1]; j++) row[Columns[j]] = Values[j];
        }
    }

    /// <summary>
    /// y = x Wᵀ + b for <paramref name="x"/> [batch, Cols] (float32, CPU) and <paramref name="bias"/>
    /// [Rows]: a new [batch, Rows] tensor. xᵀ is left in <paramref name="xt"/> (at least Cols × batch
    /// long) for the weight gradient.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor bias, float[] xt, int threads)
    {
        int batch = CheckRows(x, Cols, "input");
        using var scope = NewDisposeScope();
        var input = x.contiguous();
        var b = bias.contiguous();
        nint xa = RawTensor.Address(input, ScalarType.Float32, (long)batch * Cols), ba = RawTensor.Address(b, ScalarType.Float32, Rows);
        if (xa == 0 || ba == 0) throw new ArgumentException("The sparse training kernel takes contiguous float32 CPU tensors.");
        Transpose((float*)xa, batch, Cols, xt);
        var y = empty(new long[] { batch, Rows }, ScalarType.Float32);
        Forward(xt, batch, (float*)ba, (float*)RawTensor.Address(y, ScalarType.Float32), threads);
        GC.KeepAlive(input); GC.KeepAlive(b);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// From the output gradient <paramref name="dy"/> [batch, Rows] and the forward pass's xᵀ:
    /// the input gradient (a new [batch, Cols] tensor; null unless <paramref name="inputGradient"/>),
    /// the bias gradient (a new [Rows] tensor) and the weight gradient at the present connections
    /// into <paramref name="weightGradient"/>. <paramref name="dyt"/> is scratch of at least Rows × batch.
    /// </summary>
    public (Tensor? Input, Tensor Bias) Backward(Tensor dy, float[] xt, float[] dyt, bool inputGradient, float[] weightGradient, int threads)
    {
        int batch = CheckRows(dy, Rows, "output gradient");
        using var scope = NewDisposeScope();
        var g = dy.contiguous();
        nint ga = RawTensor.Address(g, ScalarType.Float32, (long)batch * Rows);
        if (ga == 0) throw new ArgumentException("The sparse training kernel takes contiguous float32 CPU tensors.");
        Transpose((float*)ga, batch, Rows, dyt);
        GC.KeepAlive(g);
        Tensor? dx = null;
        if (inputGradient)
        {
            dx = empty(new long[] { batch, Cols }, ScalarType.Float32);
            InputGradient(dyt, batch, (float*)RawTensor.Address(dx, ScalarType.Float32), threads);
        }
        WeightGradient(dyt, xt, batch, weightGradient, threads);
        var db = empty(new long[] { Rows }, ScalarType.Float32);
        BiasGradient(dyt, batch, (float*)RawTensor.Address(db, ScalarType.Float32));
        return (dx?.MoveToOuterDisposeScope(), db.MoveToOuterDisposeScope());
    }

    private int CheckRows(Tensor t, int width, string what)
    {
        if (t.dim() != 2 || t.shape[1] != width || t.dtype != ScalarType.Float32 || t.device_type != DeviceType.CPU)
            throw new ArgumentException($"The sparse training kernel of a {Cols}x{Rows} layer takes float32 CPU rows of {width} values as its {what}; got shape [{string.Join(", ", t.shape)}] {t.dtype}.");
        if (!Fits(t.shape[0])) throw new ArgumentException($"A batch of {t.shape[0]} rows does not fit the sparse training kernel of a {Cols}x{Rows} layer.");
        return (int)t.shape[0];
    }

    /// <summary>Whether a batch of <paramref name="batch"/> rows fits the kernel's transposed buffers (each one array).</summary>
    public bool Fits(long batch) => batch >= 1 && batch * Math.Max(Rows, Cols) <= Array.MaxLength / 2;

    /// <summary><paramref name="source"/> [n, width] row-major into <paramref name="target"/> [width, n].</summary>
    public static void Transpose(float* source, int n, int width, float[] target)
    {
        // In blocks of 16 columns, so that reads and writes both stay within a few cache lines.
        fixed (float* t = target)
            for (int c0 = 0; c0 < width; c0 += 16)
            {
                int c1 = Math.Min(width, c0 + 16);
                for (int b = 0; b < n; b++)
                {
                    float* src = source + (long)b * width;
                    for (int c = c0; c < c1; c++) t[(long)c * n + b] = src[c];
                }
            }
    }

    /// <summary>y [batch, Rows] = x Wᵀ + b, from <paramref name="xt"/> = xᵀ [Cols, batch].</summary>
    public void Forward(float[] xt, int batch, float* bias, float* y, int threads) =>
        Product(Rows, RowStart, Columns, Values, xt, batch, bias, y, threads);

    /// <summary>dX [batch, Cols] = dY W, from <paramref name="dyt"/> = dYᵀ [Rows, batch]: the forward product over the column structure.</summary>
    public void InputGradient(float[] dyt, int batch, float* dx, int threads)
    {
        // The values in column order, for this step's weights.
        var tv = _transposedValues;
        for (int j = 0; j < tv.Length; j++) tv[j] = Values[ColEntry[j]];
        Product(Cols, ColStart, ColRows, tv, dyt, batch, null, dx, threads);
    }

    /// <summary>
    /// dW at the present connections (row order) into <paramref name="gradient"/> (length
    /// <see cref="NonZeros"/>, overwritten): the dot product of dYᵀ's row and Xᵀ's column per connection.
    /// </summary>
    public void WeightGradient(float[] dyt, float[] xt, int batch, float[] gradient, int threads)
    {
        var bounds = Partition(RowStart, Rows, threads, (long)NonZeros * batch);
        void Range(int p)
        {
            ref float ys = ref MemoryMarshal.GetArrayDataReference(dyt);
            ref float xs = ref MemoryMarshal.GetArrayDataReference(xt);
            for (int r = bounds[p]; r < bounds[p + 1]; r++)
            {
                ref float dy = ref Unsafe.Add(ref ys, (nint)r * batch);
                for (int j = RowStart[r]; j < RowStart[r + 1]; j++)
                    gradient[j] = Dot(ref dy, ref Unsafe.Add(ref xs, (nint)Columns[j] * batch), batch);
            }
        }
        Run(bounds, Range);
    }

    /// <summary>The bias gradient Σ_b dY[b, r] into <paramref name="gradient"/> [Rows], from dYᵀ.</summary>
    public void BiasGradient(float[] dyt, int batch, float* gradient)
    {
        ref float ys = ref MemoryMarshal.GetArrayDataReference(dyt);
        for (int r = 0; r < Rows; r++) gradient[r] = Sum(ref Unsafe.Add(ref ys, (nint)r * batch), batch);
    }

    private float Dot(ref float a, ref float b, int n)
    {
        int i = 0;
        float s = 0;
        if (Vectorized && n >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i + 32 <= n; i += 32)
            {
                s0 += Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i);
                s1 += Vector256.LoadUnsafe(ref a, (nuint)i + 8) * Vector256.LoadUnsafe(ref b, (nuint)i + 8);
                s2 += Vector256.LoadUnsafe(ref a, (nuint)i + 16) * Vector256.LoadUnsafe(ref b, (nuint)i + 16);
                s3 += Vector256.LoadUnsafe(ref a, (nuint)i + 24) * Vector256.LoadUnsafe(ref b, (nuint)i + 24);
            }
            for (; i + 8 <= n; i += 8) s0 += Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i);
            s = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        float t0 = 0, t1 = 0;
        for (; i + 2 <= n; i += 2)
        {
            t0 += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            t1 += Unsafe.Add(ref a, i + 1) * Unsafe.Add(ref b, i + 1);
        }
        if (i < n) t0 += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return s + (t0 + t1);
    }

    private float Sum(ref float a, int n)
    {
        int i = 0;
        float s = 0;
        if (Vectorized && n >= 8)
        {
            var v = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) v += Vector256.LoadUnsafe(ref a, (nuint)i);
            s = Vector256.Sum(v);
        }
        for (; i < n; i++) s += Unsafe.Add(ref a, i);
        return s;
    }

    /// <summary>
    /// out [batch, outer] (row-major, <paramref name="output"/>) = for each outer index o:
    /// bias[o] + Σ over its entries j of vals[j] × source row index[j] ([*, batch], transposed input).
    /// </summary>
    private void Product(int outer, int[] start, int[] index, float[] vals, float[] source, int batch, float* bias, float* output, int threads)
    {
        var bounds = Partition(start, outer, threads, (long)vals.Length * batch + (long)outer * batch);
        void Range(int p)
        {
            // Outputs are computed 16 at a time into a local block and written out a batch row
            // at a time: 16 adjacent values (a cache line) per row instead of one value per row
            // at a stride of the layer's width, which at high sparsity cost more than the sums.
            Span<float> block = stackalloc float[Block * Tile];
            for (int t0 = 0; t0 < batch; t0 += Tile)
            {
                int tw = Math.Min(Tile, batch - t0);
                for (int o0 = bounds[p]; o0 < bounds[p + 1]; o0 += Block)
                {
                    int o1 = Math.Min(bounds[p + 1], o0 + Block);
                    for (int o = o0; o < o1; o++)
                    {
                        var a = block.Slice((o - o0) * Tile, tw);
                        float b0 = bias == null ? 0f : bias[o];
                        int s = start[o], e = start[o + 1];
                        if (!Vectorized) TileAny(s, e, index, vals, source, batch, t0, b0, a, wide: false);
                        else if (tw == Tile) Tile64(s, e, index, vals, source, batch, t0, b0, a);
                        else
                        {
                            int done = 0;
                            for (; tw - done >= 16; done += 16) Tile16(s, e, index, vals, source, batch, t0 + done, b0, a[done..]);
                            if (done < tw) TileAny(s, e, index, vals, source, batch, t0 + done, b0, a[done..], wide: true);
                        }
                    }
                    for (int i = 0; i < tw; i++)
                    {
                        float* dst = output + (long)(t0 + i) * outer;
                        for (int o = o0; o < o1; o++) dst[o] = block[(o - o0) * Tile + i];
                    }
                }
            }
        }
        Run(bounds, Range);
    }

    /// <summary>64 batch values of one output: eight 8-wide accumulators stay in registers while the entries stream past.</summary>
    private static void Tile64(int s, int e, int[] index, float[] vals, float[] source, int batch, int t0, float bias, Span<float> result)
    {
        var b = Vector256.Create(bias);
        Vector256<float> a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(source);
        for (int j = s; j < e; j++)
        {
            var v = Vector256.Create(vals[j]);
            ref float src = ref Unsafe.Add(ref xs, (nint)index[j] * batch + t0);
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

    /// <summary>As <see cref="Tile64"/> for 16 batch values (two accumulators).</summary>
    private static void Tile16(int s, int e, int[] index, float[] vals, float[] source, int batch, int t0, float bias, Span<float> result)
    {
        var b = Vector256.Create(bias);
        Vector256<float> a0 = b, a1 = b;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(source);
        for (int j = s; j < e; j++)
        {
            var v = Vector256.Create(vals[j]);
            ref float src = ref Unsafe.Add(ref xs, (nint)index[j] * batch + t0);
            a0 += v * Vector256.LoadUnsafe(ref src, 0u);
            a1 += v * Vector256.LoadUnsafe(ref src, 8u);
        }
        ref float dst = ref MemoryMarshal.GetReference(result);
        a0.StoreUnsafe(ref dst, 0u); a1.StoreUnsafe(ref dst, 8u);
    }

    /// <summary>Any number of batch values: 8 at a time when <paramref name="wide"/>, then one at a time (the scalar path uses only the latter).</summary>
    private static void TileAny(int s, int e, int[] index, float[] vals, float[] source, int batch, int t0, float bias, Span<float> a, bool wide)
    {
        a.Fill(bias);
        int tw = a.Length, vectorEnd = wide ? tw & ~7 : 0;
        ref float dst = ref MemoryMarshal.GetReference(a);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(source);
        for (int j = s; j < e; j++)
        {
            float v = vals[j];
            ref float src = ref Unsafe.Add(ref xs, (nint)index[j] * batch + t0);
            int i = 0;
            if (wide)
            {
                var vv = Vector256.Create(v);
                for (; i < vectorEnd; i += 8)
                    (Vector256.LoadUnsafe(ref dst, (nuint)i) + vv * Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }
            for (; i < tw; i++) Unsafe.Add(ref dst, i) += v * Unsafe.Add(ref src, i);
        }
    }

    /// <summary>
    /// <paramref name="count"/> outputs split into ranges of about equal entry counts, at most
    /// <paramref name="threads"/> of them and one per 32k multiply-adds of <paramref name="work"/>
    /// (smaller pieces cost more to hand out than they save). Fixed for fixed inputs.
    /// </summary>
    private static int[] Partition(int[] start, int count, int threads, long work)
    {
        int parts = (int)Math.Clamp(Math.Min(threads, work / 32768 + 1), 1, Math.Max(1, count));
        var bounds = new int[parts + 1];
        long total = start[count];
        int o = 0;
        for (int p = 1; p < parts; p++)
        {
            long target = total * p / parts;
            while (o < count && start[o] < target) o++;
            bounds[p] = o;
        }
        bounds[parts] = count;
        return bounds;
    }

    private static void Run(int[] bounds, Action<int> range)
    {
        int parts = bounds.Length - 1;
        if (parts == 1) range(0);
        else KernelThreads.For(parts, range);
    }
}
