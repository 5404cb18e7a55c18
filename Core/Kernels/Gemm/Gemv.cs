using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparsePrune;

/// <summary>
/// One row through a dense layer, y = W x + b, read straight from the weight's row-major memory
/// (no packing: at one row each weight is used once, so the product runs at the speed memory
/// delivers the weights). Four output rows at a time, each a vector dot product over the
/// inputs; rows are split between threads only when the layer is large enough to repay them.
/// Each output is summed in one fixed order whatever the thread count.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>Weights per thread below which one thread does the whole product.</summary>
    private const long WorkPerThread = 1L << 16;

    /// <summary>y[rows] = W[rows x cols] x[cols] + bias[rows] (bias may be null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* w, int rows, int cols, float* x, float* bias, float* y, int threads, GemmPath path)
    {
        if (rows <= 0) return;
        if (path != GemmPath.Scalar && !GemmPaths.Supports(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} product.");
        int quads = (rows + 3) / 4;
        int parts = (int)Math.Clamp((long)rows * cols / WorkPerThread, 1, Math.Max(1, Math.Min(threads, quads)));
        void Part(int p)
        {
            int r0 = quads * p / parts * 4, r1 = Math.Min(rows, quads * (p + 1) / parts * 4);
            for (int r = r0; r < r1; r += 4)
            {
                int n = Math.Min(4, r1 - r);
                if (n == 4)
                {
                    switch (path)
                    {
                        case GemmPath.Avx512: Four512(w + (long)r * cols, cols, x, y + r); break;
                        case GemmPath.Vector256: Four256(w + (long)r * cols, cols, x, y + r); break;
                        default: for (int i = 0; i < 4; i++) y[r + i] = DotScalar(w + (long)(r + i) * cols, x, cols); break;
                    }
                }
                else
                    for (int i = 0; i < n; i++) y[r + i] = path == GemmPath.Scalar ? DotScalar(w + (long)(r + i) * cols, x, cols) : DotOne(w + (long)(r + i) * cols, x, cols, path);
                if (bias is not null) for (int i = 0; i < n; i++) y[r + i] += bias[r + i];
            }
        }
        if (parts == 1) Part(0);
        else KernelThreads.For(parts, Part);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four512(float* w, int cols, float* x, float* y)
    {
        float* w1 = w + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k + 16 <= cols; k += 16)
        {
            var v = Vector512.Load(x + k);
            a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + k), v, a0);
            a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(w1 + k), v, a1);
            a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(w2 + k), v, a2);
            a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(w3 + k), v, a3);
        }
        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; k < cols; k++) { float v = x[k]; s0 += w[k] * v; s1 += w1[k] * v; s2 += w2[k] * v; s3 += w3[k] * v; }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four256(float* w, int cols, float* x, float* y)
    {
        float* w1 = w + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k + 8 <= cols; k += 8)
        {
            var v = Vector256.Load(x + k);
            a0 = Fma.MultiplyAdd(Vector256.Load(w + k), v, a0);
            a1 = Fma.MultiplyAdd(Vector256.Load(w1 + k), v, a1);
            a2 = Fma.MultiplyAdd(Vector256.Load(w2 + k), v, a2);
            a3 = Fma.MultiplyAdd(Vector256.Load(w3 + k), v, a3);
        }
        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (; k < cols; k++) { float v = x[k]; s0 += w[k] * v; s1 += w1[k] * v; s2 += w2[k] * v; s3 += w3[k] * v; }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }

    /// <summary>One row's dot product on a vector path (the last rows of a layer whose height is not a multiple of four).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotOne(float* w, float* x, int cols, GemmPath path)
    {
        float s;
        int k = 0;
        if (path == GemmPath.Avx512)
        {
            Vector512<float> a = default;
            for (; k + 16 <= cols; k += 16) a = Avx512F.FusedMultiplyAdd(Vector512.Load(w + k), Vector512.Load(x + k), a);
            s = Vector512.Sum(a);
        }
        else
        {
            Vector256<float> a = default;
            for (; k + 8 <= cols; k += 8) a = Fma.MultiplyAdd(Vector256.Load(w + k), Vector256.Load(x + k), a);
            s = Vector256.Sum(a);
        }
        for (; k < cols; k++) s += w[k] * x[k];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotScalar(float* w, float* x, int cols)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 4 <= cols; k += 4) { s0 += w[k] * x[k]; s1 += w[k + 1] * x[k + 1]; s2 += w[k + 2] * x[k + 2]; s3 += w[k + 3] * x[k + 3]; }
        for (; k < cols; k++) s0 += w[k] * x[k];
        return (s0 + s1) + (s2 + s3);
    }
}
