using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The formulas of docs/contract.md (Formulas): the mission's worked examples on the counts
/// objects, and full compression reports of real models recomputed independently from
/// GetWeight/GetBias and the layer shapes.
/// </summary>
public class CompressionReportTests
{
    private const double Eps = 1e-12;

    [Fact]
    public void ThousandWeightsFiveHundredNonZeroIsSparsityHalf()
    {
        var c = new CompressionCounts { Weights = 1000, NonZeroWeights = 500, BaselineWeights = 1000 };
        Assert.Equal(0.5, c.Sparsity, Eps);
        Assert.Equal(0.0, c.PruningRatio, Eps);
        Assert.Equal(0.5, c.OverallSparsity, Eps);

        var row = new LayerReport { Weights = 1000, NonZeroWeights = 500, BaselineWeights = 1000 };
        Assert.Equal(0.5, row.Sparsity, Eps);
    }

    [Fact]
    public void HundredBaselineWeightsThirtyDeletedIsPruningRatioPointThree()
    {
        var c = new LayerReport { Weights = 70, NonZeroWeights = 70, BaselineWeights = 100 };
        Assert.Equal(30, c.PrunedWeights);
        Assert.Equal(0.3, c.PruningRatio, Eps);
        Assert.Equal(0.0, c.Sparsity, Eps);
        Assert.Equal(0.3, c.OverallSparsity, Eps);

        var total = new CompressionCounts { Weights = 70, NonZeroWeights = 70, BaselineWeights = 100 };
        Assert.Equal(0.3, total.PruningRatio, Eps);
    }

    [Theory]
    [InlineData(100, 70, 35)]   // 30 deleted, half of the rest zero
    [InlineData(1000, 1000, 1)]
    [InlineData(64, 10, 0)]
    [InlineData(7, 7, 7)]
    public void OverallSparsityIsOneMinusNonZeroOverBaseline(long baseline, long weights, long nonZero)
    {
        var c = new CompressionCounts { Weights = weights, NonZeroWeights = nonZero, BaselineWeights = baseline };
        Assert.Equal(1.0 - (double)nonZero / baseline, c.OverallSparsity, Eps);
        Assert.Equal((double)(weights - nonZero) / weights, c.Sparsity, Eps);
        Assert.Equal(baseline - weights, c.PrunedWeights);
        Assert.Equal((double)(baseline - weights) / baseline, c.PruningRatio, Eps);
    }

    [Theory]
    [InlineData(4000, 1000)]
    [InlineData(4000, 4000)]
    [InlineData(1200, 2400)] // sparse storage can cost more than dense
    public void WeightCompressionRatioIsBaselineDenseBytesOverStoredBytes(long baselineDense, long stored)
    {
        var c = new CompressionCounts { BaselineDenseBytes = baselineDense, StoredBytes = stored, DenseBytes = 1 };
        Assert.Equal((double)baselineDense / stored, c.WeightCompressionRatio, Eps);
        var row = new LayerReport { BaselineDenseBytes = baselineDense, StoredBytes = stored };
        Assert.Equal((double)baselineDense / stored, row.WeightCompressionRatio, Eps);
    }

    [Theory]
    [InlineData(270000, 6000, 4000, 1000)]
    [InlineData(5000, 5000, 4000, 4000)]
    [InlineData(5000, 7000, 1200, 2400)] // sparse storage can cost more than dense
    public void CompressionRatioIsBaselineFileBytesOverFileBytes(long baselineFile, long file, long baselineDense, long stored)
    {
        var c = new CompressionTotals { BaselineFileBytes = baselineFile, FileBytes = file, BaselineDenseBytes = baselineDense, StoredBytes = stored };
        Assert.Equal((double)baselineFile / file, c.CompressionRatio, Eps);
        Assert.Equal((double)baselineDense / stored, c.WeightCompressionRatio, Eps);
        Assert.Equal(0.0, new CompressionTotals { BaselineFileBytes = baselineFile }.CompressionRatio); // FileBytes unknown
    }

    // ---- reports of real models ---------------------------------------------------------

    [Fact]
    public void ReportOfAnUntouchedModelMatchesItsShapes()
    {
        var model = Mlp.Create(new[] { 64, 20, 12, 10 }, seed: 11);
        var report = CompressionReport.Create(model, null);
        var widths = new[] { 64, 20, 12, 10 };
        var baseline = Enumerable.Range(0, 3).Select(i => (W: (long)widths[i] * widths[i + 1], N: widths[i + 1])).ToArray();
        CheckReport(model, report, baseline, new long[3]);
        Assert.Equal(0.0, report.Sparsity, Eps);
        Assert.Equal(0.0, report.PruningRatio, Eps);
        // No baseline: the reference is the model's own dense file, which is its file.
        Assert.Equal(1.0, report.CompressionRatio);
        Assert.Equal(SpmlpFormat.ToBytes(model).LongLength, report.FileBytes);
        Assert.Equal(report.FileBytes, report.BaselineFileBytes);
        Assert.Equal(1.0, report.WeightCompressionRatio, Eps);
        Assert.Null(report.Metric);
    }

    [Fact]
    public void ReportAfterSparsityConnectionAndNeuronPruningIsRecomputedIndependently()
    {
        var data = TestKit.Digits;
        var widths = new[] { 64, 20, 12, 10 };
        var model = Mlp.Create(widths, seed: 5);
        var baseline = Enumerable.Range(0, 3).Select(i => (W: (long)widths[i] * widths[i + 1], N: widths[i + 1])).ToArray();
        double accuracyBefore = TestKit.ManagedAccuracy(model, data);
        int n = data.TestCount;

        // 1. Set-Sparsity 0.5 (Layer): floor(0.5 × N) zeros per layer, nothing deleted.
        TestKit.Sparsify(model, 0.5, data: data);
        var r1 = CompressionReport.Create(model, data);
        CheckReport(model, r1, baseline, new long[3]);
        for (int i = 0; i < 3; i++)
            Assert.Equal(baseline[i].W - baseline[i].W / 2, r1.Layers[i].NonZeroWeights);
        Assert.Equal("Accuracy", r1.MetricName);
        Assert.NotNull(r1.BaselineMetric);
        Assert.InRange(r1.BaselineMetric!.Value, accuracyBefore - 2.0 / n, accuracyBefore + 2.0 / n);
        double accuracyNow = TestKit.ManagedAccuracy(model, data);
        Assert.InRange(r1.Metric!.Value, accuracyNow - 2.0 / n, accuracyNow + 2.0 / n);
        Assert.Equal(r1.Metric!.Value - r1.BaselineMetric!.Value, r1.MetricChange!.Value, Eps);

        // 2. Connection pruning 0.3 (Layer): floor(0.3 × baseline) deleted per layer.
        TestKit.Prune(model, 0.3, data: data);
        var r2 = CompressionReport.Create(model, data);
        var deleted2 = Enumerable.Range(0, 3).Select(i => baseline[i].W * 3 / 10).ToArray();
        CheckReport(model, r2, baseline, deleted2);
        Assert.All(r2.Layers, l => Assert.Equal(LayerStorage.Sparse, l.Stored));
        Assert.InRange(r2.PruningRatio, 0.29, 0.3);
        Assert.Equal(r1.BaselineMetric, r2.BaselineMetric);

        // 3. Neuron pruning 0.5 (Layer): the hidden layers shrink; removed neurons' weights are pruned too.
        TestKit.Prune(model, 0.5, PruneStructure.Neuron, data: data);
        Assert.Equal(new[] { 64, 10, 6, 10 }, model.Widths);
        var r3 = CompressionReport.Create(model, data);
        var deleted3 = Enumerable.Range(0, 3).Select(i => (long)TestKit.CountTrue(TestKit.Bools(model.State[i].Deleted))).ToArray();
        CheckReport(model, r3, baseline, deleted3);
        Assert.Equal(20 + 12 + 10, r3.BaselineNeurons);
        Assert.Equal(10 + 6 + 10, r3.Neurons);
        Assert.True(r3.Flops < r3.BaselineFlops);
        Assert.Equal(r3.BaselineFlops - r3.Flops, r3.FlopsReduction);
        Assert.Equal((double)r3.BaselineFlops / r3.Flops, r3.Speedup, Eps);
        accuracyNow = TestKit.ManagedAccuracy(model, data);
        Assert.InRange(r3.Metric!.Value, accuracyNow - 2.0 / n, accuracyNow + 2.0 / n);
    }

    [Fact]
    public void ReportAfterGlobalSparsityCountsEveryLayer()
    {
        var widths = new[] { 10, 8, 6, 3 };
        var model = Mlp.Create(widths, seed: 9);
        TestKit.Sparsify(model, 0.6, PruneScope.Global);
        var baseline = Enumerable.Range(0, 3).Select(i => (W: (long)widths[i] * widths[i + 1], N: widths[i + 1])).ToArray();
        var report = CompressionReport.Create(model, null);
        CheckReport(model, report, baseline, new long[3]);
        long total = baseline.Sum(b => b.W);
        Assert.Equal(total - TestKit.ExactFloor(6, 10, total), report.NonZeroWeights);
        Assert.Equal(TestKit.ExactFloor(6, 10, total) / (double)total, report.Sparsity, Eps);
    }

    /// <summary>
    /// Recomputes every count and ratio of <paramref name="report"/> from the model's current
    /// values (GetWeight/GetBias), the layer shapes, the baseline shapes and the known number
    /// of deleted connections in each layer.
    /// </summary>
    private static void CheckReport(Mlp model, CompressionReport report, (long W, int N)[] baseline, long[] deletedNow)
    {
        Assert.Equal(model.LayerCount, report.Layers.Count);
        long sW = 0, sNz = 0, sBase = 0, sP = 0, sNzP = 0, sBaseP = 0, sNeur = 0, sBaseNeur = 0, sDense = 0, sBaseDense = 0, sStored = 0, sFlops = 0, sBaseFlops = 0;
        for (int i = 0; i < model.LayerCount; i++)
        {
            var w = model.GetWeight(i);
            var b = model.GetBias(i);
            int outF = w.GetLength(0), inF = w.GetLength(1);
            long dense = (long)outF * inF;
            long present = dense - deletedNow[i];
            long nz = TestKit.CountNonZero(TestKit.Flat(w));
            long nzBias = TestKit.CountNonZero(b);
            bool sparse = deletedNow[i] > 0;
            long denseBytes = 4 * (dense + outF);
            // StoredBytes: the weight bytes of the model file (format version 2), by brute force
            // over every code width from the deleted set; a dense layer exactly its dense bytes.
            var deletedFlags = model.State[i].Deleted is { } d ? TestKit.Bools(d) : null;
            Assert.Equal(deletedNow[i], deletedFlags is null ? 0 : TestKit.CountTrue(deletedFlags));
            long stored = SpmlpReferenceReader.ExpectedWeightBytes(outF, inF, deletedFlags);
            if (!sparse) Assert.Equal(denseBytes, stored);
            else Assert.True(stored < 4 * (present + outF) + (dense + 7) / 8 + 1, $"layer {i}: {stored} bytes for {present} present weights"); // never more than values plus a bitmap
            long flops = (sparse ? 2 * present : 2 * dense) + outF;
            var row = report.Layers[i];

            Assert.Equal(i, row.Layer);
            Assert.Equal(inF, row.InFeatures);
            Assert.Equal(outF, row.OutFeatures);
            Assert.Equal(sparse ? LayerStorage.Sparse : LayerStorage.Dense, row.Stored);
            Assert.Equal(present, row.Weights);
            Assert.Equal(nz, row.NonZeroWeights);
            Assert.Equal(baseline[i].W, row.BaselineWeights);
            Assert.Equal(baseline[i].W - present, row.PrunedWeights);
            Assert.Equal(present == 0 ? 0 : (double)(present - nz) / present, row.Sparsity, Eps);
            Assert.Equal((double)(baseline[i].W - present) / baseline[i].W, row.PruningRatio, Eps);
            Assert.Equal(1.0 - (double)nz / baseline[i].W, row.OverallSparsity, Eps);
            Assert.Equal(present + outF, row.Parameters);
            Assert.Equal(nz + nzBias, row.NonZeroParameters);
            Assert.Equal(baseline[i].W + baseline[i].N, row.BaselineParameters);
            Assert.Equal(outF, row.Neurons);
            Assert.Equal(baseline[i].N, row.BaselineNeurons);
            Assert.Equal(denseBytes, row.DenseBytes);
            Assert.Equal(4 * (baseline[i].W + baseline[i].N), row.BaselineDenseBytes);
            Assert.Equal(stored, row.StoredBytes);
            Assert.Equal((double)row.BaselineDenseBytes / stored, row.WeightCompressionRatio, Eps);
            Assert.Equal(flops, row.Flops);
            Assert.Equal(2 * baseline[i].W + baseline[i].N, row.BaselineFlops);

            // The model's own layer rows agree.
            var info = model.Layers[i];
            Assert.Equal(present, info.Weights);
            Assert.Equal(nz, info.NonZeroWeights);
            Assert.Equal(sparse ? LayerStorage.Sparse : LayerStorage.Dense, info.Stored);

            sW += present; sNz += nz; sBase += baseline[i].W; sP += present + outF; sNzP += nz + nzBias;
            sBaseP += baseline[i].W + baseline[i].N; sNeur += outF; sBaseNeur += baseline[i].N;
            sDense += denseBytes; sBaseDense += 4 * (baseline[i].W + baseline[i].N); sStored += stored;
            sFlops += flops; sBaseFlops += 2 * baseline[i].W + baseline[i].N;
        }
        Assert.Equal(sW, report.Weights);
        Assert.Equal(sNz, report.NonZeroWeights);
        Assert.Equal(sBase, report.BaselineWeights);
        Assert.Equal(sBase - sW, report.PrunedWeights);
        Assert.Equal((double)(sW - sNz) / sW, report.Sparsity, Eps);
        Assert.Equal((double)(sBase - sW) / sBase, report.PruningRatio, Eps);
        Assert.Equal(1.0 - (double)sNz / sBase, report.OverallSparsity, Eps);
        Assert.Equal(sP, report.Parameters);
        Assert.Equal(sNzP, report.NonZeroParameters);
        Assert.Equal(sBaseP, report.BaselineParameters);
        Assert.Equal(sNeur, report.Neurons);
        Assert.Equal(sBaseNeur, report.BaselineNeurons);
        Assert.Equal(sDense, report.DenseBytes);
        Assert.Equal(sBaseDense, report.BaselineDenseBytes);
        Assert.Equal(sStored, report.StoredBytes);
        Assert.Equal((double)sBaseDense / sStored, report.WeightCompressionRatio, Eps);
        Assert.Equal(SpmlpFormat.ToBytes(model).LongLength, report.FileBytes);
        Assert.Equal((double)report.BaselineFileBytes / report.FileBytes, report.CompressionRatio, Eps);
        Assert.Equal(sFlops, report.Flops);
        Assert.Equal(sBaseFlops, report.BaselineFlops);

        // The model's totals agree with the report.
        Assert.Equal(sW, model.Weights);
        Assert.Equal(sNz, model.NonZeroWeights);
        Assert.Equal(sP, model.Parameters);
        Assert.Equal(sNzP, model.NonZeroParameters);
        Assert.Equal((double)(sW - sNz) / sW, model.Sparsity, Eps);
    }
}
