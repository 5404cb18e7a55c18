using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparsePrune;

/// <summary>
/// The AVX-512 register tile of <see cref="Gemm"/>: a 12 x 32 block of the product held in 24
/// of the 32 vector registers while the panels stream past (per k, two 16-wide loads of B and
/// twelve broadcasts of A, 24 fused multiply-adds).
/// Written out longhand so the JIT keeps every accumulator in a register.
/// </summary>
internal static unsafe class Avx512Tile
{
    public const int Rows = 12, Cols = 32;

    /// <summary>
    /// c[12 x 32] = Σₖ A[0..12, k] ⊗ b[k, 0..32] over a packed B panel b [kc][32], with A's
    /// 12 values of step k contiguous at a + k·<paramref name="step"/> (a packed A panel: step 12;
    /// a transposed A read in place: its row stride).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, nint step, float* b, int kc, float* c)
    {
        Vector512<float>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default,
            c60 = default, c61 = default,
            c70 = default, c71 = default,
            c80 = default, c81 = default,
            c90 = default, c91 = default,
            c100 = default, c101 = default,
            c110 = default, c111 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> x;
            x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10]); c100 = Avx512F.FusedMultiplyAdd(x, b0, c100); c101 = Avx512F.FusedMultiplyAdd(x, b1, c101);
            x = Vector512.Create(a[11]); c110 = Avx512F.FusedMultiplyAdd(x, b0, c110); c111 = Avx512F.FusedMultiplyAdd(x, b1, c111);
            a += step;
            b += Cols;
        }
        c00.Store(c + 0); c01.Store(c + 16);
        c10.Store(c + 32); c11.Store(c + 48);
        c20.Store(c + 64); c21.Store(c + 80);
        c30.Store(c + 96); c31.Store(c + 112);
        c40.Store(c + 128); c41.Store(c + 144);
        c50.Store(c + 160); c51.Store(c + 176);
        c60.Store(c + 192); c61.Store(c + 208);
        c70.Store(c + 224); c71.Store(c + 240);
        c80.Store(c + 256); c81.Store(c + 272);
        c90.Store(c + 288); c91.Store(c + 304);
        c100.Store(c + 320); c101.Store(c + 336);
        c110.Store(c + 352); c111.Store(c + 368);
    }

    /// <summary>
    /// As <see cref="Multiply"/> with A's 12 rows read in place from row-major memory (row
    /// stride <paramref name="lda"/>): no packing of A, whose rows each stream past once per B panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyRows(float* a, nint lda, float* b, int kc, float* c)
    {
        Vector512<float>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default,
            c60 = default, c61 = default,
            c70 = default, c71 = default,
            c80 = default, c81 = default,
            c90 = default, c91 = default,
            c100 = default, c101 = default,
            c110 = default, c111 = default;
        nint lda2 = 2 * lda;
        float* r0 = a, r3 = a + 3 * lda, r6 = a + 6 * lda, r9 = a + 9 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> x;
            x = Vector512.Create(r0[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(r0[lda]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(r0[lda2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(r3[0]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(r3[lda]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(r3[lda2]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(r6[0]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(r6[lda]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(r6[lda2]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(r9[0]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(r9[lda]); c100 = Avx512F.FusedMultiplyAdd(x, b0, c100); c101 = Avx512F.FusedMultiplyAdd(x, b1, c101);
            x = Vector512.Create(r9[lda2]); c110 = Avx512F.FusedMultiplyAdd(x, b0, c110); c111 = Avx512F.FusedMultiplyAdd(x, b1, c111);
            r0++; r3++; r6++; r9++;
            b += Cols;
        }
        c00.Store(c + 0); c01.Store(c + 16);
        c10.Store(c + 32); c11.Store(c + 48);
        c20.Store(c + 64); c21.Store(c + 80);
        c30.Store(c + 96); c31.Store(c + 112);
        c40.Store(c + 128); c41.Store(c + 144);
        c50.Store(c + 160); c51.Store(c + 176);
        c60.Store(c + 192); c61.Store(c + 208);
        c70.Store(c + 224); c71.Store(c + 240);
        c80.Store(c + 256); c81.Store(c + 272);
        c90.Store(c + 288); c91.Store(c + 304);
        c100.Store(c + 320); c101.Store(c + 336);
        c110.Store(c + 352); c111.Store(c + 368);
    }
}
