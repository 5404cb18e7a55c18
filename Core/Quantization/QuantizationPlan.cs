using System.Globalization;

namespace SparsePrune;

/// <summary>A computed but not yet applied quantization: what -WhatIf shows, per layer.</summary>
public sealed class QuantizationPlan
{
    internal QuantizationPlan(QuantizationRequest request, IReadOnlyList<int> bits, IReadOnlyList<LayerQuantization> layers, IReadOnlyList<long> presentWeights)
    {
        Request = request;
        Bits = bits;
        Layers = layers;
        PresentWeights = presentWeights;
    }

    public QuantizationRequest Request { get; }
    /// <summary>Bits per layer, resolved once from the request (its -Bits or the scheme's default).</summary>
    public IReadOnlyList<int> Bits { get; }
    internal IReadOnlyList<LayerQuantization> Layers { get; }
    /// <summary>Present non-zero weights per layer (the ones quantized).</summary>
    public IReadOnlyList<long> PresentWeights { get; }
    /// <summary>Values a present non-zero weight of each layer can take (shared values or grid levels).</summary>
    public IReadOnlyList<int> Levels => Layers.Select(l => l.Levels).ToList();

    /// <summary>The request with its bits resolved: the history's settings (their line "Method=Linear Bits=8,8,8").</summary>
    public HistorySettings DescribeRequest() => new HistorySettings().Add(nameof(Request.Method), Request.Method).Add(nameof(Bits), Bits.ToArray());

    public IEnumerable<string> Describe() => Layers.Select((l, i) => $"layer {i}: {PresentWeights[i]} weights to {l}")
        .Concat(Request.BiasBitsPerLayer(Layers.Count) is { } bb
            ? bb.Select((b, i) => b == 0 ? $"layer {i}: biases stay float32" : $"layer {i}: biases to a {b}-bit k-means codebook of their own")
            : Array.Empty<string>());
}
