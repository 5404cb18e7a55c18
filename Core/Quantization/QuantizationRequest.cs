using System.Globalization;

namespace SparsePrune;

/// <summary>What Invoke-Quantization is asked to do.</summary>
public sealed record QuantizationRequest
{
    public const int DefaultKMeansBits = 5, DefaultLinearBits = 8;

    public QuantizationMethod Method { get; init; } = QuantizationMethod.KMeans;
    /// <summary>Bits per weight: one value for every layer, or one per layer; null: 5 (KMeans) or 8 (Linear).</summary>
    public int[]? Bits { get; init; }

    /// <summary>The bits of each of <paramref name="layers"/> layers.</summary>
    public int[] BitsPerLayer(int layers) => Bits is null
        ? Enumerable.Repeat(Method == QuantizationMethod.KMeans ? DefaultKMeansBits : DefaultLinearBits, layers).ToArray()
        : Bits.Length == 1 ? Enumerable.Repeat(Bits[0], layers).ToArray() : Bits.ToArray();

    public void Validate(Mlp model)
    {
        int min = Method == QuantizationMethod.KMeans ? 1 : 2;
        if (Bits is { } bits)
        {
            if (bits.Length != 1 && bits.Length != model.LayerCount)
                throw SparsePruneException.Argument("InvalidBits", $"-Bits takes one value for every layer or one per layer ({model.LayerCount}); got {bits.Length}.");
            if (bits.Any(b => b < min || b > 8))
                throw SparsePruneException.Argument("InvalidBits", $"-Bits must be {min} to 8 for -Method {Method}; got {string.Join(",", bits)}.");
        }
    }

    public HistorySettings Describe(int layers) => new HistorySettings().Add(nameof(Method), Method).Add(nameof(Bits), BitsPerLayer(layers).ToArray());
}
