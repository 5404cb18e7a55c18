using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparsePrune;

/// <summary>
/// The AVX2 register tile of <see cref="Gemm"/>: a 6 x 16 block of the product in 12 of the 16
/// vector registers (per k, two 8-wide loads of B and six broadcasts of A). The path of an x86
/// CPU without AVX-512.
/// Written out longhand so the JIT keeps every accumulator in a register.
/// </summary>
internal static unsafe class Vector256Tile
{
    public const int Rows = 6, Cols = 16;

    /// <summary>
    /// c[6 x 16] = Σₖ A[0..6, k] ⊗ b[k, 0..16] over a packed B panel b [kc][16], with A's
    /// 6 values of step k contiguous at a + k·<paramref name="step"/> (a packed A panel: step 6;
    /// a transposed A read in place: its row stride).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, nint step, float* b, int kc, float* c)
    {
        Vector256<float>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            Vector256<float> x;
            x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            a += step;
            b += Cols;
        }
        c00.Store(c + 0); c01.Store(c + 8);
        c10.Store(c + 16); c11.Store(c + 24);
        c20.Store(c + 32); c21.Store(c + 40);
        c30.Store(c + 48); c31.Store(c + 56);
        c40.Store(c + 64); c41.Store(c + 72);
        c50.Store(c + 80); c51.Store(c + 88);
    }

    /// <summary>
    /// As <see cref="Multiply"/> with A's 6 rows read in place from row-major memory (row
    /// stride <paramref name="lda"/>): no packing of A, whose rows each stream past once per B panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyRows(float* a, nint lda, float* b, int kc, float* c)
    {
        Vector256<float>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        nint lda2 = 2 * lda;
        float* r0 = a, r3 = a + 3 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            Vector256<float> x;
            x = Vector256.Create(r0[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(r0[lda]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(r0[lda2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(r3[0]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(r3[lda]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(r3[lda2]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            r0++; r3++;
            b += Cols;
        }
        c00.Store(c + 0); c01.Store(c + 8);
        c10.Store(c + 16); c11.Store(c + 24);
        c20.Store(c + 32); c21.Store(c + 40);
        c30.Store(c + 48); c31.Store(c + 56);
        c40.Store(c + 64); c41.Store(c + 72);
        c50.Store(c + 80); c51.Store(c + 88);
    }
}
