using Xunit;

namespace SparsePrune.Tests;

/// <summary>One row through a dense layer on every path, against a double-precision reference, and the same bits at any thread count.</summary>
public unsafe class GemvTests
{
    [Theory]
    [MemberData(nameof(GemmTests.Paths), MemberType = typeof(GemmTests))]
    public void MatchesTheReference(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        var rng = new Random(3);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 5), (4, 16), (7, 13), (10, 300), (301, 785), (1030, 1100) })
        {
            var w = new float[rows * cols];
            var x = new float[cols];
            var bias = new float[rows];
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            for (int i = 0; i < bias.Length; i++) bias[i] = (float)(rng.NextDouble() * 2 - 1);
            float[] Run(int threads)
            {
                var y = new float[rows];
                fixed (float* pw = w, px = x, pb = bias, py = y) Gemv.Multiply(pw, rows, cols, px, pb, py, threads, path);
                return y;
            }
            var one = Run(1);
            for (int r = 0; r < rows; r++)
            {
                double s = bias[r];
                for (int c = 0; c < cols; c++) s += (double)w[r * cols + c] * x[c];
                Assert.True(Math.Abs(s - one[r]) <= 1e-6 * (cols + 8), $"{rows}x{cols} row {r}: {one[r]} against {s}");
            }
            Assert.Equal(one, Run(2));
            Assert.Equal(one, Run(3));
        }
    }
}
