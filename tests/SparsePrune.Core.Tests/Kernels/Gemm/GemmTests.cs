using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The dense product against a double-precision reference on every path this CPU runs (the
/// scalar and AVX2 paths are what a CPU without AVX-512 takes: forced here by asking for them),
/// on odd shapes, both operand layouts, bias and accumulation; and its promise that the bits do
/// not depend on the thread count or on B being packed ahead.
/// </summary>
public unsafe class GemmTests
{
    /// <summary>The paths this CPU runs, by name (the enum is internal).</summary>
    public static TheoryData<string> Paths()
    {
        var data = new TheoryData<string>();
        foreach (var p in Enum.GetValues<GemmPath>()) if (GemmPaths.Supports(p)) data.Add(p.ToString());
        return data;
    }

    private static readonly (int M, int N, int K)[] Shapes =
    {
        (1, 1, 1), (1, 7, 3), (7, 13, 5), (13, 33, 257), (12, 32, 256), (25, 65, 300), (253, 70, 513), (3, 129, 64), (241, 17, 31),
    };

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>A (m x k) and B (k x n) stored as given (transposed: as their transposes), and the reference C in doubles.</summary>
    private static (float[] A, float[] B, float[] Bias, double[] C) Case(int m, int n, int k, bool ta, bool tb, int seed)
    {
        var a = Random(m * k, seed);
        var b = Random(k * n, seed + 1);
        var bias = Random(n, seed + 2);
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = bias[j];
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return (a, b, bias, c);
    }

    private static float[] Run(float[] a, float[] b, float[]? bias, int m, int n, int k, bool ta, bool tb, int threads, GemmPath path, float[]? start = null)
    {
        var c = start ?? new float[m * n];
        fixed (float* pa = a, pb = b, pbias = bias, pc = c)
            Gemm.Multiply(new GemmOperand(pa, ta ? m : k, ta), new GemmOperand(pb, tb ? k : n, tb), pc, n, m, n, k, pbias, start is not null, threads, path);
        return c;
    }

    private static void AssertClose(double[] expected, float[] actual, int k)
    {
        double tolerance = 1e-6 * (k + 8);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: {actual[i]} against {expected[i]} (tolerance {tolerance})");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesTheReferenceOnEveryLayoutAndShape(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        int seed = 1;
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var (a, b, bias, c) = Case(m, n, k, ta, tb, seed += 3);
                    AssertClose(c, Run(a, b, bias, m, n, k, ta, tb, 2, path), k);
                }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AccumulatesOntoCAndAddsTheBiasOnce(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        const int m = 29, n = 41, k = 600; // three K-blocks: the bias must not be added per block
        var (a, b, bias, c) = Case(m, n, k, false, true, 7);
        var start = Random(m * n, 99);
        var result = Run(a, b, bias, m, n, k, false, true, 2, path, (float[])start.Clone());
        var expected = new double[m * n];
        for (int i = 0; i < expected.Length; i++) expected[i] = c[i] + start[i];
        AssertClose(expected, result, k);
    }

    [Fact]
    public void NoInnerDimensionGivesTheBias()
    {
        var bias = new float[] { 1, 2, 3 };
        var c = Run(new float[1], new float[1], bias, 2, 3, 0, false, false, 1, GemmPath.Scalar);
        Assert.Equal(new float[] { 1, 2, 3, 1, 2, 3 }, c);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TheBitsDoNotDependOnTheThreadCount(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        foreach (var (m, n, k) in new[] { (300, 200, 700), (40, 700, 300), (512, 40, 300) })
        {
            var (a, b, bias, _) = Case(m, n, k, false, true, m);
            var one = Run(a, b, bias, m, n, k, false, true, 1, path);
            foreach (int threads in new[] { 2, 3, 5 })
                Assert.Equal(one, Run(a, b, bias, m, n, k, false, true, threads, path));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void APackedOperandGivesTheSameBits(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        const int m = 37, n = 70, k = 530;
        var (a, w, bias, _) = Case(m, n, k, false, true, 5);
        var direct = Run(a, w, bias, m, n, k, false, true, 2, path);
        var packedResult = new float[m * n];
        fixed (float* pa = a, pw = w, pbias = bias, pc = packedResult)
        {
            var packed = PackedMatrix.Pack(new GemmOperand(pw, k, transposed: true), k, n, path);
            Gemm.Multiply(new GemmOperand(pa, k), packed, pc, n, m, pbias, false, 2);
        }
        Assert.Equal(direct, packedResult);
    }

    [Fact]
    public void APathTheCpuLacksIsRefused()
    {
        var missing = Enum.GetValues<GemmPath>().Where(p => !GemmPaths.Supports(p)).ToArray();
        if (missing.Length == 0) return; // every path runs here: nothing to refuse
        var c = new float[1];
        Assert.Throws<PlatformNotSupportedException>(() => Run(new float[1], new float[1], null, 1, 1, 1, false, false, 1, missing[0]));
    }

    [Theory]
    [InlineData("scalar", "Scalar")]
    [InlineData("VECTOR256", "Vector256")]
    [InlineData(null, null)]
    [InlineData("bogus", null)]
    public void AnEnvironmentRequestCanOnlyNarrowThePath(string? request, string? askedName)
    {
        GemmPath? asked = askedName is null ? null : Enum.Parse<GemmPath>(askedName);
        var widest = GemmPaths.Choose(null);
        var chosen = GemmPaths.Choose(request);
        Assert.True(GemmPaths.Supports(chosen));
        Assert.Equal(asked is { } a && a < widest ? a : widest, chosen);
    }
}
