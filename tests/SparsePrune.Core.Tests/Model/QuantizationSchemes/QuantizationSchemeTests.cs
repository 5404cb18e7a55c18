using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The scheme registry and what every registered scheme promises: each -Method name finds its
/// class, file codes are the ones written files carry, and every scheme's codes and values agree
/// (a quantized weight is on the grid, each code's value codes back to that value, 0 stays 0,
/// the parameters a file keeps read back to the same quantization).
/// </summary>
public class QuantizationSchemeTests
{
    /// <summary>A .spmlp cursor stands in for any byte source.</summary>
    internal static IByteSource Source(byte[] bytes) => new SpmlpCursor(bytes);

    [Fact]
    public void EveryMethodNamesItsRegisteredScheme()
    {
        var expected = new Dictionary<QuantizationMethod, Type>
        {
            [QuantizationMethod.KMeans] = typeof(KMeansCodebook),
            [QuantizationMethod.Linear] = typeof(LinearGrid),
            [QuantizationMethod.PowerOfTwo] = typeof(PowerOfTwoGrid),
        };
        Assert.Equal(Enum.GetValues<QuantizationMethod>().OrderBy(m => m), expected.Keys.OrderBy(m => m));
        foreach (var (method, type) in expected)
        {
            var scheme = new QuantizationRequest { Method = method }.Scheme;
            Assert.IsType(type, scheme);
            Assert.Equal(method.ToString(), scheme.Name);
            Assert.Same(scheme, QuantizationScheme.Named(method.ToString()));
        }
        Assert.Null(QuantizationScheme.Named("kmeans")); // files spell names exactly
        Assert.Null(QuantizationScheme.Named("0"));
        Assert.Equal(3, QuantizationScheme.All.Count);
    }

    [Fact]
    public void FileCodesAreTheOnesWrittenFilesCarry()
    {
        Assert.IsType<KMeansCodebook>(QuantizationScheme.ForFileCode(0));
        Assert.IsType<LinearGrid>(QuantizationScheme.ForFileCode(1));
        Assert.IsType<PowerOfTwoGrid>(QuantizationScheme.ForFileCode(2));
        Assert.Null(QuantizationScheme.ForFileCode(3));
        Assert.Equal(QuantizationScheme.All.Count, QuantizationScheme.All.Select(s => s.FileCode).Distinct().Count());
    }

    [Fact]
    public void DefaultBitsAreEachSchemesOwn()
    {
        var model = Mlp.Create(new[] { 6, 5, 3 }, seed: 3);
        foreach (var (method, bits) in new[] { (QuantizationMethod.KMeans, 5), (QuantizationMethod.Linear, 8), (QuantizationMethod.PowerOfTwo, 4) })
        {
            var plan = Quantizer.Plan(model, new QuantizationRequest { Method = method });
            Assert.Equal(new[] { bits, bits }, plan.Bits);
            Assert.Equal($"Method={method} Bits={bits},{bits}", plan.DescribeRequest().ToString());
        }
        Assert.Equal(5, QuantizationRequest.DefaultKMeansBits);
        Assert.Equal(8, QuantizationRequest.DefaultLinearBits);
    }

    [Fact]
    public void BitsOutsideEachSchemesRangeAreRefused()
    {
        var model = Mlp.Create(new[] { 4, 3 }, seed: 1);
        foreach (var scheme in QuantizationScheme.All)
        {
            var method = Enum.Parse<QuantizationMethod>(scheme.Name);
            var e = TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { scheme.MinBits - 1 } }));
            Assert.Contains($"{scheme.MinBits} to {QuantizationScheme.MaxBits}", e.Message);
            TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { QuantizationScheme.MaxBits + 1 } }));
            Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { scheme.MinBits } });
            Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { QuantizationScheme.MaxBits } });
        }
    }

    public static TheoryData<string, int> SchemesAndBits()
    {
        var data = new TheoryData<string, int>();
        foreach (var scheme in new[] { "KMeans", "Linear", "PowerOfTwo" })
            foreach (var bits in new[] { 2, 3, 8 }) data.Add(scheme, bits);
        return data;
    }

    [Theory]
    [MemberData(nameof(SchemesAndBits))]
    public void CodesAndValuesAgree(string name, int bits)
    {
        var scheme = QuantizationScheme.Named(name)!;
        const int outF = 7, inF = 13;
        var random = new Random(bits * 31 + name.Length);
        var w = Enumerable.Range(0, outF * inF).Select(i => i % 5 == 0 ? 0f : (float)(random.NextDouble() * 2 - 1) * (1 + i % 3)).ToArray();
        var q = scheme.Fit(w, outF, inF, bits);
        Assert.Equal(bits, q.Bits);
        Assert.Same(scheme, q.Scheme);
        int alphabet = scheme.Alphabet(q);
        Assert.InRange(alphabet, 2, (1 << bits) + 1); // KMeans: 2^bits shared values and the zero
        Assert.InRange(q.Levels, 1, alphabet);
        for (int r = 0; r < outF; r++)
        {
            Assert.Equal(0f, scheme.Round(q, r, 0f));
            for (int c = 0; c < inF; c++)
            {
                float v = w[r * inF + c], rounded = scheme.Round(q, r, v);
                Assert.InRange(scheme.Code(q, r, v), 0, alphabet - 1);
                Assert.True(scheme.OnGrid(q, r, rounded), $"{name}: {v} rounds to {rounded}, which is off the grid");
                Assert.Equal(rounded, scheme.Round(q, r, rounded));
            }
            for (int code = 0; code < alphabet; code++)
            {
                float value = scheme.Value(q, r, code);
                Assert.Equal(value, scheme.Value(q, r, scheme.Code(q, r, value)));
            }
        }
        // Off the grid: a rounded value nudged by one ulp (it lies between two values).
        float some = scheme.Round(q, 0, w[1]);
        if (some != 0) Assert.False(scheme.OnGrid(q, 0, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(some) + 1)));

        // What a file keeps reads back to the same quantization.
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) scheme.WriteParameters(writer, q);
        var bytes = stream.ToArray();
        Assert.True(bytes.Length >= scheme.ParameterBytes(q), $"{name} writes {bytes.Length} bytes, counts {scheme.ParameterBytes(q)}");
        var back = scheme.ReadParameters(Source(bytes), bits, outF, "layer 0");
        TestKit.BitEqual(q.Codebook, back.Codebook, "levels");
        TestKit.BitEqual(q.RowScales ?? Array.Empty<float>(), back.RowScales ?? Array.Empty<float>(), "row scales");
        Assert.Equal(q.RowZeroPoints ?? Array.Empty<int>(), back.RowZeroPoints ?? Array.Empty<int>());
        Assert.Equal(q.ToString(), back.ToString());
        Assert.StartsWith($"{name} {bits}-bit", q.ToString());
        var cut = Assert.Throws<FormatException>(() => scheme.ReadParameters(Source(bytes[..^1]), bits, outF, "layer 4"));
        Assert.Contains("layer 4", cut.Message);
    }
}
