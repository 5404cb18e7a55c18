namespace SparsePrune;

/// <summary>What Invoke-Quantization is asked to do.</summary>
public sealed record QuantizationRequest
{
    /// <summary>Bits when -Bits is not given; each scheme owns its default, these name two of them.</summary>
    public const int DefaultKMeansBits = KMeansCodebook.Default, DefaultLinearBits = LinearGrid.Default;

    public QuantizationMethod Method { get; init; } = QuantizationMethod.KMeans;
    /// <summary>Bits per weight: one value for every layer, or one per layer; null: the scheme's default (5 KMeans, 8 Linear, 4 PowerOfTwo).</summary>
    public int[]? Bits { get; init; }
    /// <summary>
    /// Bits of each layer's own k-means codebook for its biases: one value for every layer or one
    /// per layer, 0 keeping that layer's biases float32 (null: all stay float32). On LeNet-300-100
    /// (Fashion-MNIST, 98 %, 3-bit weights) 3 bits took the file from 14,425 B to 13,130 B for 0.06
    /// points of accuracy, but 0.43 points once the input offsets were folded into layer 0's biases
    /// (they then spread wider). Opt-in: it costs accuracy a budget may not have, and its files are
    /// format 4, which earlier releases do not read.
    /// </summary>
    public int[]? BiasBits { get; init; }

    /// <summary>The bias bits of each of <paramref name="layers"/> layers (0: float32), or null when none are asked.</summary>
    internal int[]? BiasBitsPerLayer(int layers) => BiasBits is null ? null
        : BiasBits.Length == 1 ? Enumerable.Repeat(BiasBits[0], layers).ToArray() : BiasBits.ToArray();

    /// <summary>The scheme <see cref="Method"/> names: the one place a method meets its class.</summary>
    internal QuantizationScheme Scheme => QuantizationScheme.Named(Method.ToString())
        ?? throw SparsePruneException.Argument("InvalidMethod", $"-Method {Method} names no quantization scheme; known: {string.Join(", ", QuantizationScheme.All.Select(s => s.Name))}.");

    /// <summary>The bits of each of <paramref name="layers"/> layers (<see cref="Quantizer.Plan"/> asks once and keeps them).</summary>
    internal int[] BitsPerLayer(int layers) => Bits is null
        ? Enumerable.Repeat(Scheme.DefaultBits, layers).ToArray()
        : Bits.Length == 1 ? Enumerable.Repeat(Bits[0], layers).ToArray() : Bits.ToArray();

    public void Validate(Mlp model)
    {
        var scheme = Scheme;
        if (BiasBits is { } bb)
        {
            if (bb.Length != 1 && bb.Length != model.LayerCount)
                throw SparsePruneException.Argument("InvalidBits", $"-BiasBits takes one value for every layer or one per layer ({model.LayerCount}); got {bb.Length}.");
            if (bb.Any(b => b < 0 || b > QuantizationScheme.MaxBits))
                throw SparsePruneException.Argument("InvalidBits", $"-BiasBits must be 0 (float32 biases) to {QuantizationScheme.MaxBits}; got {string.Join(",", bb)}.");
        }
        if (Bits is { } bits)
        {
            if (bits.Length != 1 && bits.Length != model.LayerCount)
                throw SparsePruneException.Argument("InvalidBits", $"-Bits takes one value for every layer or one per layer ({model.LayerCount}); got {bits.Length}.");
            if (bits.Any(b => b < scheme.MinBits || b > QuantizationScheme.MaxBits))
                throw SparsePruneException.Argument("InvalidBits", $"-Bits must be {scheme.MinBits} to {QuantizationScheme.MaxBits} for -Method {Method}; got {string.Join(",", bits)}.");
        }
    }
}
