using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The k-means codebook's own rules: code 0 is the zero and code c + 1 the codebook's value c, an
/// exact value is found in a codebook that fine-tuning left out of order, the first of equal values
/// codes, and what version 2 metadata and version 3 sections may hold.
/// </summary>
public class KMeansCodebookTests
{
    private static readonly KMeansCodebook Scheme = (KMeansCodebook)QuantizationScheme.Named("KMeans")!;

    [Fact]
    public void FitsSharedValuesToTheNonZeroWeights()
    {
        var q = Scheme.Fit(new[] { 11f, 0, 1, 12, 0, 3, 2, 10 }, 2, 4, 1);
        Assert.Equal(new[] { 2f, 11f }, q.Codebook); // k-means over the non-zero weights, zeros are no cluster
        Assert.Equal(2, q.Levels);
        Assert.Equal(3, Scheme.Alphabet(q)); // and the zero
        Assert.Equal("KMeans 1-bit (2 values)", q.ToString());
        Assert.True(Scheme.HasSharedValues);
    }

    [Fact]
    public void CodesAreTheZeroThenTheCodebook()
    {
        var q = new LayerQuantization(Scheme, 2, new[] { -1f, 0.5f, 2f });
        Assert.Equal(0, Scheme.Code(q, 0, 0f));
        Assert.Equal(0, Scheme.Code(q, 0, -0f));
        Assert.Equal(1, Scheme.Code(q, 0, -1f));
        Assert.Equal(3, Scheme.Code(q, 0, 2f));
        Assert.Equal(2, Scheme.Code(q, 0, 0.9f)); // nearest: 0.5
        Assert.Equal(0.5f, Scheme.Round(q, 0, 0.9f));
        Assert.Equal(new[] { 0f, -1f, 0.5f, 2f }, Enumerable.Range(0, 4).Select(c => Scheme.Value(q, 0, c)));
        Assert.False(Scheme.OnGrid(q, 0, 0.9f));
        Assert.Equal(4 * 3, Scheme.ParameterBytes(q));
    }

    [Fact]
    public void AnOutOfOrderCodebookStillFindsItsExactValues()
    {
        // Fine-tuning moves shared values past each other; codes are positions in the codebook as it stands.
        var q = new LayerQuantization(Scheme, 2, new[] { 0.5f, -1f, 2f, 0.25f });
        Assert.Equal(2, Scheme.Code(q, 0, -1f));
        Assert.Equal(4, Scheme.Code(q, 0, 0.25f));
        Assert.True(Scheme.OnGrid(q, 0, 0.25f));
        Assert.False(Scheme.OnGrid(q, 0, 0.3f));
        // Equal values (two clusters trained onto one): the first codes, as the first writers coded it.
        var twice = new LayerQuantization(Scheme, 2, new[] { -1f, 0.5f, 0.5f, 2f });
        Assert.Equal(2, Scheme.Code(twice, 0, 0.5f));
    }

    [Fact]
    public void FilesMustHoldAFittingCodebook()
    {
        var e = Assert.Throws<FormatException>(() => Scheme.FromVersion2(2, new[] { 1f, 2, 3, 4, 5 }, null, null, 3, "layer 1"));
        Assert.Equal("layer 1's codebook does not fit 2 bits", e.Message);
        Assert.Throws<FormatException>(() => Scheme.FromVersion2(2, null, null, null, 3, "layer 1"));
        Assert.Throws<FormatException>(() => Scheme.FromVersion2(2, new[] { float.NaN }, null, null, 3, "layer 1"));
        Assert.Equal(new[] { 1f, 2f }, Scheme.FromVersion2(2, new[] { 1f, 2f }, null, null, 3, "layer 1").Codebook);

        // Version 3: a uint16 count, then the values.
        var section = new byte[] { 5, 0 }.Concat(new byte[20]).ToArray();
        e = Assert.Throws<FormatException>(() => Scheme.ReadParameters(QuantizationSchemeTests.Source(section), 2, 3, "layer 0"));
        Assert.Contains("codebook of 5 values; 2 bits hold at most 4", e.Message);
        var nan = new byte[] { 1, 0 }.Concat(BitConverter.GetBytes(float.PositiveInfinity)).ToArray();
        e = Assert.Throws<FormatException>(() => Scheme.ReadParameters(QuantizationSchemeTests.Source(nan), 2, 3, "layer 0"));
        Assert.Contains("NaN or infinite", e.Message);
    }
}
