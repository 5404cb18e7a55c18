using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The linear grid: per row, 2^bits signed levels over [min(row, 0), max(row, 0)] with 0 a level,
/// value (level − zero point) · scale, code = level + 2^(bits−1); the affine rows ONNX export
/// writes as int8; and what files may hold.
/// </summary>
public class LinearGridTests
{
    private static readonly LinearGrid Scheme = (LinearGrid)QuantizationScheme.Named("Linear")!;

    [Fact]
    public void EachRowGetsAScaleAndTheZeroLevel()
    {
        // Row 0 spans [−1, 2]: scale 3/255, zero point −128 + 85 = −43. Row 1 is all zeros: scale 0.
        var q = Scheme.Fit(new[] { -1f, 0f, 0.5f, 2f, 0f, 0f, 0f, 0f }, 2, 4, 8);
        Assert.Equal(3f / 255, q.RowScales![0]);
        Assert.Equal(-43, q.RowZeroPoints![0]);
        Assert.Equal(new[] { 0f, 0 }, new[] { q.RowScales[1], (float)q.RowZeroPoints[1] });
        Assert.Equal(256, q.Levels);
        Assert.Equal(256, Scheme.Alphabet(q));
        Assert.Equal("Linear 8-bit", q.ToString());
        Assert.False(Scheme.HasSharedValues);

        // 0 is a level exactly; the ends are within half a step.
        Assert.Equal(0f, Scheme.Round(q, 0, 0f));
        Assert.Equal(-43 + 128, Scheme.Code(q, 0, 0f));
        Assert.InRange(Scheme.Round(q, 0, 2f), 2f - 1.5f / 255, 2f + 1.5f / 255);
        Assert.InRange(Scheme.Round(q, 0, -1f), -1f - 1.5f / 255, -1f + 1.5f / 255);
        Assert.Equal(0f, Scheme.Round(q, 1, 5f)); // a zero row's only value
        // Beyond the row's range the level clamps.
        Assert.Equal(255, Scheme.Code(q, 0, 100f));
        Assert.Equal(0, Scheme.Code(q, 0, -100f));
    }

    [Fact]
    public void ValuesAreTheAffineRowsOnnxDequantizes()
    {
        var q = Scheme.Fit(new[] { -0.7f, 0.1f, 0.3f, 1.9f, -2f, 0.4f }, 2, 3, 4);
        IAffineRows grid = Scheme;
        Assert.True(grid.HasRows(q, 2));
        Assert.False(grid.HasRows(q, 3));
        for (int r = 0; r < 2; r++)
        {
            var (scale, zp) = grid.Row(q, r);
            for (int code = 0; code < 16; code++)
            {
                int level = grid.Level(q, code);
                Assert.Equal(code - 8, level);
                Assert.Equal((level - zp) * scale, Scheme.Value(q, r, code)); // bit for bit DequantizeLinear's product
            }
        }
        Assert.Equal(5 * 2, Scheme.ParameterBytes(q));
    }

    [Fact]
    public void FilesMustHoldAFittingGrid()
    {
        var e = Assert.Throws<FormatException>(() => Scheme.FromVersion2(8, null, new[] { 0.1f }, new[] { 0 }, 2, "layer 3"));
        Assert.Equal("layer 3's linear grid does not fit its 2 rows", e.Message);
        Assert.Throws<FormatException>(() => Scheme.FromVersion2(8, null, new[] { -0.1f, 0.1f }, new[] { 0, 0 }, 2, "layer 3"));

        var negative = BitConverter.GetBytes(-1f).Concat(new byte[] { 0 }).ToArray();
        e = Assert.Throws<FormatException>(() => Scheme.ReadParameters(QuantizationSchemeTests.Source(negative), 4, 1, "layer 0"));
        Assert.Contains("row scales are not all finite and non-negative", e.Message);
        var zeroPoint = BitConverter.GetBytes(0.5f).Concat(new byte[] { 8 }).ToArray(); // 4 bits: levels −8..7
        e = Assert.Throws<FormatException>(() => Scheme.ReadParameters(QuantizationSchemeTests.Source(zeroPoint), 4, 1, "layer 0"));
        Assert.Contains("row zero points are not all 4-bit levels", e.Message);
        zeroPoint[4] = 7;
        Assert.Equal(7, Scheme.ReadParameters(QuantizationSchemeTests.Source(zeroPoint), 4, 1, "layer 0").RowZeroPoints![0]);
    }
}
