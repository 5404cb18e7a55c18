namespace SparsePrune;

/// <summary>What Invoke-Quantization is asked to do.</summary>
public sealed record QuantizationRequest
{
    /// <summary>Bits when -Bits is not given; each scheme owns its default, these name two of them.</summary>
    public const int DefaultKMeansBits = KMeansCodebook.Default, DefaultLinearBits = LinearGrid.Default;

    public QuantizationMethod Method { get; init; } = QuantizationMethod.KMeans;
    /// <summary>Bits per weight: one value for every layer, or one per layer; null: the scheme's default (5 KMeans, 8 Linear, 4 PowerOfTwo).</summary>
    public int[]? Bits { get; init; }

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
        if (Bits is { } bits)
        {
            if (bits.Length != 1 && bits.Length != model.LayerCount)
                throw SparsePruneException.Argument("InvalidBits", $"-Bits takes one value for every layer or one per layer ({model.LayerCount}); got {bits.Length}.");
            if (bits.Any(b => b < scheme.MinBits || b > QuantizationScheme.MaxBits))
                throw SparsePruneException.Argument("InvalidBits", $"-Bits must be {scheme.MinBits} to {QuantizationScheme.MaxBits} for -Method {Method}; got {string.Join(",", bits)}.");
        }
    }
}
