namespace SparsePrune;

/// <summary>Chooses, per layer and batch size, between the dense product and the sparse kernel.</summary>
internal static class KernelChoice
{
    /// <summary>Densities up to which the sparse kernel is the default, by batch size (see <see cref="SparseByDefault"/>).</summary>
    private const double SingleRowDensity = 0.35, SmallBatchDensity = 0.06, BatchDensity = 0.1;

    /// <summary>
    /// With no measured choice: the sparse kernel when the layer is sparse enough for the batch
    /// size. One row reads fewer bytes through the kernel up to a high density; from 16 rows on
    /// its register tiles carry it; between 2 and 15 rows part of the work goes a value at a
    /// time, so it needs the sparsest layers. The thresholds are where it won on 2048x2048
    /// layers with 2 threads (Optimize-Mlp measures the real layer instead).
    /// </summary>
    public static bool SparseByDefault(double density, int batch) =>
        batch <= 1 ? density <= SingleRowDensity : batch < 16 ? density <= SmallBatchDensity : density <= BatchDensity;
}
