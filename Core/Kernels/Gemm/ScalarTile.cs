namespace SparsePrune;

/// <summary>
/// The portable register tile of <see cref="Gemm"/> (4 x 4, scalar): any CPU, and the reference
/// the vector tiles are tested against.
/// </summary>
internal static unsafe class ScalarTile
{
    public const int Rows = 4, Cols = 4;

    /// <summary>c[4 x 4] = Σₖ A[0..4, k] ⊗ b[k, 0..4]; A's four values of step k at a + k·<paramref name="step"/>.</summary>
    public static void Multiply(float* a, nint step, float* b, int kc, float* c) => Run(a, step, 1, b, kc, c);

    /// <summary>As <see cref="Multiply"/> with A's four rows read in place (row stride <paramref name="lda"/>).</summary>
    public static void MultiplyRows(float* a, nint lda, float* b, int kc, float* c) => Run(a, 1, lda, b, kc, c);

    /// <summary>A's element (i, k) at a[k·step + i·rowStride].</summary>
    private static void Run(float* a, nint step, nint rowStride, float* b, int kc, float* c)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k = 0; k < kc; k++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float x = a[0]; c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[rowStride]; c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2 * rowStride]; c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3 * rowStride]; c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += step;
            b += Cols;
        }
        c[0] = c00; c[1] = c01; c[2] = c02; c[3] = c03;
        c[4] = c10; c[5] = c11; c[6] = c12; c[7] = c13;
        c[8] = c20; c[9] = c21; c[10] = c22; c[11] = c23;
        c[12] = c30; c[13] = c31; c[14] = c32; c[15] = c33;
    }
}
