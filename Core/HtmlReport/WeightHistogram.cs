using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// How a layer's present, non-zero weights spread by magnitude: equal-width bins from 0 to the
/// largest |w|. Binned in LibTorch, so a 16-million-weight layer costs one pass and a few
/// hundred bytes in the report rather than a list of its weights. Zeros (masked or trained to
/// zero) are counted apart: next to thousands of zeros no other bar would show.
/// </summary>
public sealed class WeightHistogram
{
    public const int DefaultBins = 40;

    public int Layer { get; init; }
    /// <summary>Bin edges, one more than <see cref="Counts"/>.</summary>
    public IReadOnlyList<double> Edges { get; init; } = Array.Empty<double>();
    public IReadOnlyList<long> Counts { get; init; } = Array.Empty<long>();
    /// <summary>Present weights that are exactly zero.</summary>
    public long Zeros { get; init; }
    /// <summary>A k-means quantized layer's shared values (its codebook), else null.</summary>
    public IReadOnlyList<float>? SharedValues { get; init; }

    internal static WeightHistogram Of(LayerState layer, int index, int bins = DefaultBins)
    {
        using var scope = NewDisposeScope();
        var w = layer.Weight.detach().flatten();
        if (layer.Deleted is not null) w = w.masked_select(layer.Deleted.flatten().logical_not());
        long present = w.numel();
        var magnitudes = w.abs();
        var nonZero = magnitudes.masked_select(magnitudes.ne(0));
        long count = nonZero.numel();
        double max = count == 0 ? 0 : nonZero.max().item<float>();
        var edges = Enumerable.Range(0, bins + 1).Select(k => max * k / bins).ToArray();
        long[] counts = count == 0
            ? new long[bins]
            : (nonZero.to_type(ScalarType.Float64) * (bins / max)).floor().clamp_max(bins - 1).to_type(ScalarType.Int64).bincount(null, bins).data<long>().ToArray();
        var codebook = layer.Quantization is { Scheme.HasSharedValues: true } q ? q.Codebook.ToArray() : null;
        return new WeightHistogram { Layer = index, Edges = edges, Counts = counts, Zeros = present - count, SharedValues = codebook };
    }
}
