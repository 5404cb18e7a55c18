using Xunit;

namespace SparsePrune.Tests;

/// <summary>The transposed block copy packing uses, on every shape around its 8 x 8 blocks.</summary>
public unsafe class TransposeTests
{
    [Fact]
    public void CopiesEveryElementTransposedAndNothingElse()
    {
        foreach (var (rows, cols) in new[] { (1, 1), (8, 8), (7, 9), (9, 7), (16, 24), (13, 31), (12, 256) })
        {
            const int pad = 3;
            var src = new float[rows * (cols + pad)];
            for (int i = 0; i < src.Length; i++) src[i] = i + 1;
            var dst = new float[cols * (rows + pad)];
            Array.Fill(dst, -1f);
            fixed (float* s = src, d = dst) Transpose.Copy(s, cols + pad, d, rows + pad, rows, cols);
            for (int c = 0; c < cols; c++)
                for (int r = 0; r < rows + pad; r++)
                    Assert.Equal(r < rows ? src[r * (cols + pad) + c] : -1f, dst[c * (rows + pad) + r]);
        }
    }
}
