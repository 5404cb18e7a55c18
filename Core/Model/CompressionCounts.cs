namespace SparsePrune;

/// <summary>
/// The counts and ratios of one layer or of the whole model (see docs/contract.md, Formulas):
/// Sparsity = (Weights − NonZeroWeights) / Weights; PruningRatio = PrunedWeights / BaselineWeights;
/// OverallSparsity = 1 − NonZeroWeights / BaselineWeights; WeightCompressionRatio = BaselineDenseBytes / StoredBytes.
/// A whole model's counts add its file (<see cref="CompressionTotals"/>: FileBytes and the file's CompressionRatio).
/// </summary>
public class CompressionCounts
{
    public CompressionCounts() { }

    /// <summary>The same counts as <paramref name="counts"/> (a sweep result carries its report's).</summary>
    protected CompressionCounts(CompressionCounts counts)
    {
        Weights = counts.Weights; NonZeroWeights = counts.NonZeroWeights; BaselineWeights = counts.BaselineWeights;
        Parameters = counts.Parameters; NonZeroParameters = counts.NonZeroParameters; BaselineParameters = counts.BaselineParameters;
        Neurons = counts.Neurons; BaselineNeurons = counts.BaselineNeurons;
        DenseBytes = counts.DenseBytes; BaselineDenseBytes = counts.BaselineDenseBytes; StoredBytes = counts.StoredBytes;
        Flops = counts.Flops; BaselineFlops = counts.BaselineFlops;
    }

    /// <summary>Weights present now (deleted connections and removed neurons' weights are gone; masked ones count).</summary>
    public long Weights { get; init; }
    public long NonZeroWeights { get; init; }
    public double Sparsity => Weights == 0 ? 0 : (double)(Weights - NonZeroWeights) / Weights;
    public long BaselineWeights { get; init; }
    public long PrunedWeights => BaselineWeights - Weights;
    public double PruningRatio => BaselineWeights == 0 ? 0 : (double)PrunedWeights / BaselineWeights;
    public double OverallSparsity => BaselineWeights == 0 ? 0 : 1.0 - (double)NonZeroWeights / BaselineWeights;
    /// <summary>Weights and biases present now.</summary>
    public long Parameters { get; init; }
    public long NonZeroParameters { get; init; }
    public long BaselineParameters { get; init; }
    public double ParameterSparsity => Parameters == 0 ? 0 : (double)(Parameters - NonZeroParameters) / Parameters;
    /// <summary>Output neurons now (for the total: hidden and output neurons).</summary>
    public long Neurons { get; init; }
    public long BaselineNeurons { get; init; }
    /// <summary>float32 bytes of the current shapes stored dense (weights and biases).</summary>
    public long DenseBytes { get; init; }
    public long BaselineDenseBytes { get; init; }
    /// <summary>
    /// The bytes a model file (.spmlp, written by Export-Mlp) spends on the layers' live weights
    /// and biases, exactly as <see cref="SpmlpFormat.LayerWeightBytes(Mlp)"/> counts them: a dense
    /// layer 4 bytes per weight and bias; a sparse (pruned) layer 4 bytes per present weight,
    /// its relative position codes (a few bits per present weight) and 4 bytes per bias; a
    /// quantized layer (format 3) its codebook or grid and its entropy-coded codes instead of
    /// the float32 values. Masks
    /// and the values behind them are not counted (a mask is reversible and saves nothing), nor
    /// are fixed per-layer fields, metadata, header and checksum.
    /// </summary>
    public long StoredBytes { get; init; }
    /// <summary>
    /// The weights-only ratio: <see cref="BaselineDenseBytes"/> / <see cref="StoredBytes"/>, the
    /// layers' dense float32 weights and biases at baseline over the bytes the file spends on
    /// them now (0 when nothing is stored). A layer has no file of its own, so this is a layer
    /// row's only ratio; a model's report also has CompressionRatio, its file's (which counts
    /// the metadata, header and fixed fields too, and so is lower).
    /// </summary>
    public double WeightCompressionRatio => StoredBytes == 0 ? 0 : (double)BaselineDenseBytes / StoredBytes;
    /// <summary>
    /// Stored bits per present weight: 8 × <see cref="StoredBytes"/> / <see cref="Weights"/>, so the
    /// codes (or float32 values), the position codes, the codebook or grid and the biases, spread
    /// over the weights the file keeps (0 when none are present). 32 and a little more for a dense
    /// float32 layer; a few bits for a pruned, quantized, entropy-coded one.
    /// </summary>
    public double BitsPerWeight => Weights == 0 ? 0 : 8.0 * StoredBytes / Weights;
    /// <summary>Floating-point operations of one forward pass of one row: 2 per multiply-add (dense layers all of them, sparse layers present weights only) plus 1 per bias.</summary>
    public long Flops { get; init; }
    public long BaselineFlops { get; init; }

    /// <summary>
    /// The counts of layer <paramref name="l"/>, against its baseline (<paramref name="baseWeights"/>
    /// weights, <paramref name="baseNeurons"/> neurons) and with the <paramref name="storedBytes"/>
    /// a model file spends on it.
    /// </summary>
    internal static CompressionCounts OfLayer(LayerState l, long baseWeights, int baseNeurons, long storedBytes)
    {
        long present = l.PresentWeights, nonZero = l.NonZeroWeights;
        return new CompressionCounts
        {
            Weights = present, NonZeroWeights = nonZero, BaselineWeights = baseWeights,
            Parameters = present + l.OutFeatures, NonZeroParameters = nonZero + l.NonZeroBiases,
            BaselineParameters = baseWeights + baseNeurons,
            Neurons = l.OutFeatures, BaselineNeurons = baseNeurons,
            DenseBytes = 4 * (l.DenseWeights + l.OutFeatures), BaselineDenseBytes = 4 * (baseWeights + baseNeurons), StoredBytes = storedBytes,
            Flops = (l.Stored == LayerStorage.Dense ? 2 * l.DenseWeights : 2 * present) + l.OutFeatures,
            BaselineFlops = 2 * baseWeights + baseNeurons,
        };
    }

    /// <summary>Each layer's counts of <paramref name="model"/>, whose file spends <paramref name="storedBytes"/>[i] on layer i.</summary>
    internal static IEnumerable<CompressionCounts> OfLayers(Mlp model, IReadOnlyList<long> storedBytes)
    {
        var state = model.State;
        var baseline = model.Baseline;
        for (int i = 0; i < state.Count; i++)
            yield return OfLayer(state[i], baseline?.LayerWeights[i] ?? state[i].DenseWeights, baseline?.LayerNeurons[i] ?? state[i].OutFeatures, storedBytes[i]);
    }

    /// <summary>The sums of <paramref name="parts"/> (the ratios follow from them).</summary>
    internal static CompressionCounts Total(IEnumerable<CompressionCounts> parts)
    {
        var list = parts.ToList();
        return new CompressionCounts
        {
            Weights = list.Sum(r => r.Weights), NonZeroWeights = list.Sum(r => r.NonZeroWeights), BaselineWeights = list.Sum(r => r.BaselineWeights),
            Parameters = list.Sum(r => r.Parameters), NonZeroParameters = list.Sum(r => r.NonZeroParameters), BaselineParameters = list.Sum(r => r.BaselineParameters),
            Neurons = list.Sum(r => r.Neurons), BaselineNeurons = list.Sum(r => r.BaselineNeurons),
            DenseBytes = list.Sum(r => r.DenseBytes), BaselineDenseBytes = list.Sum(r => r.BaselineDenseBytes), StoredBytes = list.Sum(r => r.StoredBytes),
            Flops = list.Sum(r => r.Flops), BaselineFlops = list.Sum(r => r.BaselineFlops),
        };
    }
}
