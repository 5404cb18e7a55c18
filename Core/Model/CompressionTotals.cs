namespace SparsePrune;

/// <summary>
/// A whole model's counts (see <see cref="CompressionCounts"/>) and its file: the bytes Export-Mlp
/// writes for it as a .spmlp, the bytes of the dense float32 file at its baseline, and their
/// ratio, CompressionRatio = BaselineFileBytes / FileBytes (docs/contract.md, Formulas). The
/// report and a sweep's results carry these; a layer row does not (a layer has no file).
/// </summary>
public class CompressionTotals : CompressionCounts
{
    public CompressionTotals() { }

    /// <summary>The same counts and file sizes as <paramref name="totals"/> (a sweep result carries its report's).</summary>
    protected CompressionTotals(CompressionTotals totals) : base(totals)
    {
        FileBytes = totals.FileBytes; BaselineFileBytes = totals.BaselineFileBytes;
    }

    /// <summary>The given counts, with the file sizes.</summary>
    protected internal CompressionTotals(CompressionCounts counts, long fileBytes, long baselineFileBytes) : base(counts)
    {
        FileBytes = fileBytes; BaselineFileBytes = baselineFileBytes;
    }

    /// <summary>
    /// The bytes of the model's .spmlp file (Export-Mlp's default format), equal to the file
    /// Export-Mlp writes byte for byte: weights, positions, codebooks, biases, masks, metadata,
    /// header and checksum. A model's file is a function of the model, so this is the same at
    /// any time. 0 when unknown: a model the writer refuses (a quantized layer's weight moved
    /// off its grid) or a sweep result file written before results carried it.
    /// </summary>
    public long FileBytes { get; init; }

    /// <summary>
    /// The bytes of the reference file: the dense float32 .spmlp file of the model at its
    /// baseline, before its first sparsify, prune or quantize step (for a model without a
    /// baseline, the dense file of its own shapes; see docs/contract.md for baselines that did
    /// not record it).
    /// </summary>
    public long BaselineFileBytes { get; init; }

    /// <summary>
    /// How many times smaller the file is than the dense file at baseline:
    /// <see cref="BaselineFileBytes"/> / <see cref="FileBytes"/> (0 when FileBytes is unknown).
    /// The weights-only ratio is <see cref="CompressionCounts.WeightCompressionRatio"/>.
    /// </summary>
    public double CompressionRatio => FileBytes == 0 ? 0 : (double)BaselineFileBytes / FileBytes;
}
