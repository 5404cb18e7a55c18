using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SparsePrune;

/// <summary>
/// Dense single-precision matrix product C = A·B (+ bias per column, + C when accumulating),
/// written here rather than taken from LibTorch: LibTorch multiplies through MKL, which on a
/// CPU not made by Intel takes its AVX2 code even where the CPU has AVX-512, at about half the
/// speed this CPU does. The layout is the usual blocked one: B is packed into panels of a
/// register tile's width and K-blocks that stay in L1, A into panels of the tile's height in
/// blocks that stay in L2 (read in place, rows or columns, except a last short panel), and a register tile (<see cref="Avx512Tile"/>, <see cref="Vector256Tile"/>,
/// <see cref="ScalarTile"/>) multiplies a panel pair. Every element of C is summed by one thread
/// in one fixed order, so the result does not depend on the thread count or on timing.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>K-block: a B panel's block (256 x 32 floats on AVX-512, 32 KiB) stays in L1.</summary>
    internal const int KBlock = 256;
    /// <summary>M-block: an A block (240 x 256 floats, 240 KiB) stays in L2; a multiple of every tile's height.</summary>
    internal const int MBlock = 240;
    /// <summary>K-block when C is stored transposed.</summary>
    internal const int TransposedKBlock = 1024;
    /// <summary>Multiply-adds below which one thread does the whole product (a thread's start costs more).</summary>
    private const long ParallelWork = 1L << 20;

    /// <summary>
    /// The K-block for depth <paramref name="k"/>: at most <see cref="KBlock"/>, the blocks of equal
    /// size (784 = 4 x 196, not 3 x 256 + 16, whose last block would be mostly call and store).
    /// Depends on k alone, so the order of the sums does too.
    /// </summary>
    internal static int BlockDepth(int k, int most = KBlock) => k <= 0 ? 1 : (k + (k + most - 1) / most - 1) / ((k + most - 1) / most);

    public static (int Rows, int Cols) TileOf(GemmPath path) => path switch
    {
        GemmPath.Avx512 => (Avx512Tile.Rows, Avx512Tile.Cols),
        GemmPath.Vector256 => (Vector256Tile.Rows, Vector256Tile.Cols),
        _ => (ScalarTile.Rows, ScalarTile.Cols),
    };

    /// <summary>
    /// C[m x n] (row stride <paramref name="ldc"/>) = A[m x k]·B[k x n] + bias[n] (bias may be null),
    /// added to C's values when <paramref name="accumulate"/>, else written over them.
    /// </summary>
    /// <param name="transposeC">Store the result transposed: element (i, j) at c[j·ldc + i] (the product is then Cᵀ's, e.g. yᵀ = W xᵀ written into y).</param>
    public static void Multiply(GemmOperand a, GemmOperand b, float* c, int ldc, int m, int n, int k,
        float* bias, bool accumulate, int threads, GemmPath path, bool transposeC = false) =>
        Run(a, new PanelSource(b, null), c, ldc, m, n, k, bias, accumulate, threads, path, transposeC);

    /// <summary>As <see cref="Multiply(GemmOperand, GemmOperand, float*, int, int, int, int, float*, bool, int, GemmPath)"/> with B packed ahead (a layer's weight at inference).</summary>
    public static void Multiply(GemmOperand a, PackedMatrix b, float* c, int ldc, int m,
        float* bias, bool accumulate, int threads)
    {
        fixed (float* packed = b.Panels)
            Run(a, new PanelSource(default, packed + b.Offset), c, ldc, m, b.Cols, b.Depth, bias, accumulate, threads, b.Path, false);
        GC.KeepAlive(b);
    }

    /// <summary>B as the tiles read it: packed per call from an operand, or already packed (full depth per panel).</summary>
    private readonly struct PanelSource
    {
        public PanelSource(GemmOperand operand, float* packed) { Operand = operand; Packed = packed; }
        public GemmOperand Operand { get; }
        public float* Packed { get; }
    }

    // Fully optimized from the first call: a model's first passes would otherwise run unoptimized code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(GemmOperand a, PanelSource b, float* c, int ldc, int m, int n, int k,
        float* bias, bool accumulate, int threads, GemmPath path, bool transposeC)
    {
        if (m <= 0 || n <= 0) return;
        if (path != GemmPath.Scalar && !GemmPaths.Supports(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} product.");
        if (k <= 0)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    long at = transposeC ? (long)j * ldc + i : (long)i * ldc + j;
                    c[at] = (accumulate ? c[at] : 0f) + (bias is null ? 0f : bias[j]);
                }
            return;
        }
        var (mr, nr) = TileOf(path);
        int panels = (n + nr - 1) / nr, rowPanels = (m + mr - 1) / mr;
        int parts = (long)m * n * k < ParallelWork ? 1 : Math.Max(1, threads);
        // Split C by rows where there are enough: threads splitting columns write different parts of
        // the same cache lines of C at every K-block, and measured half as fast on 2 cores.
        bool byColumns = rowPanels < 2 * parts && panels >= 2 * parts;
        parts = Math.Min(parts, byColumns ? panels : rowPanels);
        void Part(int p)
        {
            if (byColumns) Block(a, b, c, ldc, transposeC, 0, m, panels * p / parts, panels * (p + 1) / parts, n, k, bias, accumulate, path);
            else Block(a, b, c, ldc, transposeC, rowPanels * p / parts * mr, Math.Min(m, rowPanels * (p + 1) / parts * mr), 0, panels, n, k, bias, accumulate, path);
        }
        if (parts == 1) Part(0);
        else KernelThreads.For(parts, Part);
    }

    /// <summary>Rows [i0, i1) and column panels [p0, p1) of C: one thread's share.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(GemmOperand a, PanelSource b, float* c, int ldc, bool transposeC, int i0, int i1, int p0, int p1,
        int n, int k, float* bias, bool accumulate, GemmPath path)
    {
        if (i0 >= i1 || p0 >= p1) return;
        var (mr, nr) = TileOf(path);
        // A transposed C is stored element by element, so it is stored once per tile where the
        // depth allows: deeper blocks (B panels then come from L2, which keeps up with the tile).
        int kb = transposeC ? BlockDepth(k, TransposedKBlock) : BlockDepth(k);
        // A's rows are read in place, except where their stride is a multiple of 1 KiB: such rows
        // fall into the same L1 sets, and A is then packed per block (at K = 4096 on 2 threads:
        // 246 against 208 GFLOP/s; at K = 784 reading in place measured faster). A transposed A
        // (each step's values contiguous) is packed whenever two B panels reuse it: a plain copy.
        // A last panel of fewer than mr rows is always copied, zero-padded, so that no tile reads past A.
        bool packA = a.Transposed ? p1 - p0 >= 2 : a.Stride % 256 == 0;
        int aRows = packA ? Math.Min(MBlock, (i1 - i0 + mr - 1) / mr * mr) : mr;
        float* partial = Scratch.Get(0, (long)aRows * kb);
        float* packedB = b.Packed is null ? Scratch.Get(1, (long)(p1 - p0) * nr * kb) : null;
        float* tile = stackalloc float[mr * nr];
        {
            for (int k0 = 0; k0 < k; k0 += kb)
            {
                int kc = Math.Min(kb, k - k0);
                if (b.Packed is null)
                    for (int p = p0; p < p1; p++) PackB(b.Operand, packedB + (long)(p - p0) * nr * kc, k0, kc, p * nr, n, nr);
                for (int r0 = i0; r0 < i1; r0 += MBlock)
                {
                    int rows = Math.Min(MBlock, i1 - r0), rowPanels = (rows + mr - 1) / mr;
                    int lastRows = rows - (rowPanels - 1) * mr;
                    if (packA) for (int q = 0; q < rowPanels; q++) PackA(a, partial + (long)q * mr * kc, r0 + q * mr, i1, k0, kc, mr);
                    else if (lastRows < mr) PackA(a, partial, r0 + (rowPanels - 1) * mr, i1, k0, kc, mr);
                    for (int p = p0; p < p1; p++)
                    {
                        float* panelB = b.Packed is null ? packedB + (long)(p - p0) * nr * kc : b.Packed + ((long)p * k + k0) * nr;
                        int col = p * nr, cols = Math.Min(nr, n - col);
                        for (int q = 0; q < rowPanels; q++)
                        {
                            int row = r0 + q * mr;
                            if (packA) MultiplyTile(path, partial + (long)q * mr * kc, mr, false, panelB, kc, tile);
                            else if (q == rowPanels - 1 && lastRows < mr) MultiplyTile(path, partial, mr, false, panelB, kc, tile);
                            else if (a.Transposed) MultiplyTile(path, a.Data + (long)k0 * a.Stride + row, a.Stride, false, panelB, kc, tile);
                            else MultiplyTile(path, a.Data + (long)row * a.Stride + k0, a.Stride, true, panelB, kc, tile);
                            float* blockBias = k0 == 0 && bias is not null ? bias + col : null;
                            if (transposeC) StoreTransposed(tile, nr, c + (long)col * ldc + row, ldc, Math.Min(mr, i1 - row), cols, k0 == 0 && !accumulate, blockBias);
                            else Store(tile, nr, c + (long)row * ldc + col, ldc, Math.Min(mr, i1 - row), cols, k0 == 0 && !accumulate, blockBias);
                        }
                    }
                }
            }
        }
    }

    /// <summary>One register tile: A's values of step k at a + k·stride, or (<paramref name="rows"/>) A's rows at a + i·stride.</summary>
    private static void MultiplyTile(GemmPath path, float* a, nint stride, bool rows, float* b, int kc, float* tile)
    {
        switch (path)
        {
            case GemmPath.Avx512:
                if (rows) Avx512Tile.MultiplyRows(a, stride, b, kc, tile); else Avx512Tile.Multiply(a, stride, b, kc, tile);
                break;
            case GemmPath.Vector256:
                if (rows) Vector256Tile.MultiplyRows(a, stride, b, kc, tile); else Vector256Tile.Multiply(a, stride, b, kc, tile);
                break;
            default:
                if (rows) ScalarTile.MultiplyRows(a, stride, b, kc, tile); else ScalarTile.Multiply(a, stride, b, kc, tile);
                break;
        }
    }

    /// <summary>The tile's [rows x cols] corner into C: written (with the bias) on the first K-block, added on later ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Store(float* tile, int nr, float* c, int ldc, int rows, int cols, bool overwrite, float* bias)
    {
        int wide = Vector256.IsHardwareAccelerated ? cols & ~7 : 0;
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * nr, dst = c + (long)i * ldc;
            // Elementwise, in the same order on every path: (tile + bias), then C + that.
            int j = 0;
            for (; j < wide; j += 8)
            {
                var v = Vector256.Load(src + j);
                if (bias is not null) v += Vector256.Load(bias + j);
                if (!overwrite) v = Vector256.Load(dst + j) + v;
                v.Store(dst + j);
            }
            for (; j < cols; j++)
            {
                float v = bias is null ? src[j] : src[j] + bias[j];
                dst[j] = overwrite ? v : dst[j] + v;
            }
        }
    }

    /// <summary>As <see cref="Store"/> into a C stored transposed: the tile's element (i, j) at c[j·ldc + i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreTransposed(float* tile, int nr, float* c, int ldc, int rows, int cols, bool overwrite, float* bias)
    {
        for (int j = 0; j < cols; j++)
        {
            float* dst = c + (long)j * ldc;
            float add = bias is null ? 0f : bias[j];
            for (int i = 0; i < rows; i++)
            {
                float v = bias is null ? tile[i * nr + j] : tile[i * nr + j] + add;
                dst[i] = overwrite ? v : dst[i] + v;
            }
        }
    }

    /// <summary>Rows [row, row + mr) (zeros past <paramref name="rowEnd"/>) and K-block [k0, k0 + kc) of A as [kc][mr].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(GemmOperand a, float* dst, int row, int rowEnd, int k0, int kc, int mr)
    {
        int rows = Math.Min(mr, rowEnd - row);
        if (a.Transposed)
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = a.Data + (long)(k0 + p) * a.Stride + row;
                float* d = dst + p * mr;
                int i = 0;
                for (; i < rows; i++) d[i] = src[i];
                for (; i < mr; i++) d[i] = 0f;
            }
            return;
        }
        // dst[p, i] = A[row + i, k0 + p]: a transposed copy.
        Transpose.Copy(a.Data + (long)row * a.Stride + k0, a.Stride, dst, mr, rows, kc);
        for (int i = rows; i < mr; i++)
            for (int p = 0; p < kc; p++) dst[p * mr + i] = 0f;
    }

    /// <summary>Columns [col, col + nr) (zeros past <paramref name="n"/>) and K-block [k0, k0 + kc) of B as [kc][nr].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(GemmOperand b, float* dst, int k0, int kc, int col, int n, int nr)
    {
        int cols = Math.Min(nr, n - col);
        if (!b.Transposed)
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = b.Data + (long)(k0 + p) * b.Stride + col;
                float* d = dst + p * nr;
                int j = 0;
                for (; j < cols; j++) d[j] = src[j];
                for (; j < nr; j++) d[j] = 0f;
            }
            return;
        }
        // dst[p, j] = Bᵀ[col + j, k0 + p]: a transposed copy.
        Transpose.Copy(b.Data + (long)col * b.Stride + k0, b.Stride, dst, nr, cols, kc);
        for (int j = cols; j < nr; j++)
            for (int p = 0; p < kc; p++) dst[p * nr + j] = 0f;
    }
}
