using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The paired bound the accuracy budget judges each probe by: its arithmetic on hand-computed cases.
/// </summary>
public class PairedBoundTests
{
    // ---- 9. the paired bound: arithmetic on hand-computed cases ----------------------------------

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.95, 1.6448536269514715)]
    [InlineData(0.975, 1.9599639845400536)]
    [InlineData(0.99, 2.3263478740408408)]
    [InlineData(0.9999, 3.7190164854557084)]
    public void ZIsTheNormalQuantile(double confidence, double z)
    {
        Assert.Equal(z, PairedBound.Z(confidence), 12);
        Assert.Equal(confidence, PairedBound.NormalCdf(z), 13);
        Assert.Equal(1 - confidence, PairedBound.NormalCdf(-z), 13);
    }

    [Fact]
    public void ZRefusesAConfidenceOutsideItsRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(0.4));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Z(double.NaN));
    }

    [Fact]
    public void AccuracyBoundFromDiscordantRows()
    {
        // 100 rows, 3 lost, 1 gained: mean (3 − 1)/100 = 0.02; Σd² = 4, so the sample variance is
        // (4 − 100·0.02²)/99 = 3.96/99 = 0.04 and the standard error √(0.04/100) = 0.02;
        // at 95 % the bound is 0.02 + 1.6448536·0.02 = 0.0528971.
        var e = PairedBound.Accuracy(100, 3, 1, 0.95);
        Assert.Equal(100, e.Rows);
        Assert.Equal(0.02, e.Estimate, 15);
        Assert.Equal(0.03289707253902943, e.Width, 12);
        Assert.Equal(0.052897072539029436, e.Bound, 12);
        Assert.Equal(3, e.Lost);
        Assert.Equal(1, e.Gained);
        // At 0.5 the bound is the estimate: the search as it judged before it had a bound.
        Assert.Equal(0.02, PairedBound.Accuracy(100, 3, 1, 0.5).Bound, 15);
    }

    [Fact]
    public void AccuracyBoundCountsGainsAgainstLosses()
    {
        // 200 rows, 1 lost, 5 gained: mean −4/200 = −0.02; variance (6 − 200·0.0004)/199 = 5.92/199;
        // bound −0.02 + 1.6448536·√(5.92/199/200) = 0.0000607: a drop of at most 0.006 points.
        var e = PairedBound.Accuracy(200, 1, 5, 0.95);
        Assert.Equal(-0.02, e.Estimate, 15);
        Assert.Equal(6.0722673348678063e-05, e.Bound, 12);
        Assert.True(e.Bound <= 0.001);
    }

    [Fact]
    public void AccuracyBoundWithNoChangedRowIsNotZero()
    {
        // No row changed: a zero variance would bound the drop at 0 however few the rows. It counts
        // one discordant row instead: (1 − 0)/99, bound 1.6448536·√(1/9900) = 0.0165.
        var e = PairedBound.Accuracy(100, 0, 0, 0.95);
        Assert.Equal(0, e.Estimate);
        Assert.Equal(0.016531400956524982, e.Bound, 12);
        // So 12 rows that agree cannot certify a one-point budget, and 1000 can.
        Assert.True(PairedBound.Accuracy(12, 0, 0, 0.95).Bound > 0.01);
        Assert.True(PairedBound.Accuracy(1000, 0, 0, 0.95).Bound < 0.01);
    }

    [Fact]
    public void AccuracyBoundFromRowScoresCountsTheDiscordantPairs()
    {
        // Rows 1 and 5 lost (1 → 0), row 3 gained (0 → 1), rows 0, 2, 4 unchanged.
        double[] reference = { 1, 1, 1, 0, 0, 1 }, pruned = { 1, 0, 1, 1, 0, 0 };
        var e = PairedBound.Accuracy(reference, pruned, 0.95);
        Assert.Equal(2, e.Lost);
        Assert.Equal(1, e.Gained);
        // mean 1/6; variance (3 − 6/36)/5 = 0.5666667; bound 1/6 + 1.6448536·√(0.5666667/6) = 0.6721600.
        Assert.Equal(1.0 / 6, e.Estimate, 15);
        Assert.Equal(0.6721600379806181, e.Bound, 12);
        Assert.Equal(PairedBound.Accuracy(6, 2, 1, 0.95), e);
    }

    [Fact]
    public void LossBoundIsRelativeToTheReferenceLoss()
    {
        // Per-row squared errors; differences 0.5, 0, 1, −0.5: mean 0.25, sample variance 1.25/3,
        // standard error √(1.25/3/4) = 0.3227486, width 1.6448536·0.3227486 = 0.5308742; the
        // reference loss is 1, so the relative rise is 0.25 and its bound 0.7808742.
        double[] reference = { 1, 1, 1, 1 }, pruned = { 1.5, 1, 2, 0.5 };
        var e = PairedBound.Loss(reference, pruned, 0.95);
        Assert.Equal(0.25, e.Estimate, 15);
        Assert.Equal(0.5308742253443264, e.Width, 12);
        Assert.Equal(0.7808742253443264, e.Bound, 12);
        Assert.Null(e.Lost);
        // The same differences over a reference loss of 2 are half as large a rise, bound and all.
        var twice = PairedBound.Loss(new double[] { 2, 2, 2, 2 }, new[] { 2.5, 2, 3, 1.5 }, 0.95);
        Assert.Equal(0.125, twice.Estimate, 15);
        Assert.Equal(0.7808742253443264 / 2, twice.Bound, 12);
        // A reference without error: any rise is infinite, none is none.
        Assert.Equal(double.PositiveInfinity, PairedBound.Loss(new double[] { 0, 0 }, new double[] { 0, 1 }, 0.95).Bound);
        Assert.Equal(0, PairedBound.Loss(new double[] { 0, 0 }, new double[] { 0, 0 }, 0.95).Bound);
    }

    [Fact]
    public void BoundsRefuseRowsThatDoNotPair()
    {
        Assert.Throws<ArgumentException>(() => PairedBound.Accuracy(new double[] { 1, 0 }, new double[] { 1 }, 0.95));
        Assert.Throws<ArgumentException>(() => PairedBound.Loss(new double[] { 1 }, new double[] { 1 }, 0.95));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedBound.Accuracy(10, 8, 3, 0.95));
    }

    [Fact]
    public void RowsNeededAndSmallestBudgetAreOneRuleReadBothWays()
    {
        // 1 % at 95 %: h = 0.005, 1 + 1.6448536²·0.995/0.005 = 539.4 → 540 rows.
        Assert.Equal(540, PairedBound.RowsNeeded(0.01, 0.95));
        // 10 % at 95 %: 1 + 2.7055·0.95/0.05 = 52.4 → 53.
        Assert.Equal(53, PairedBound.RowsNeeded(0.1, 0.95));
        // At 0.5 only the row's worth counts: one row at most half of 1 % → 200 rows, exactly.
        Assert.Equal(200, PairedBound.RowsNeeded(0.01, 0.5));
        Assert.Equal(int.MaxValue, PairedBound.RowsNeeded(0, 0.95));
        // 143 rows: 2·max(1/143, 2.7055/(142 + 2.7055)) = 0.0373938.
        Assert.Equal(0.037393777591577665, PairedBound.SmallestBudget(143, 0.95), 12);
        foreach (int n in new[] { 12, 143, 320, 575, 6000 })
        {
            double smallest = PairedBound.SmallestBudget(n, 0.95);
            Assert.True(PairedBound.RowsNeeded(smallest * 1.0001, 0.95) <= n, $"{n} rows are enough for {smallest}");
            Assert.True(PairedBound.RowsNeeded(smallest * 0.999, 0.95) > n, $"{n} rows are too few below {smallest}");
        }
        // The one-row bound: what 143 rows can certify at best (1/143 + 1.6448536·√((1 − 1/143)/142/143)).
        Assert.Equal(0.01849547990875155, PairedBound.OneRowBound(143, 0.95), 12);
        Assert.Equal(0.008265167584223347, PairedBound.OneRowBound(320, 0.95), 12);
    }
}
