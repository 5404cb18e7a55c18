namespace SparsePrune;

/// <summary>A computed but not yet applied quantization: what -WhatIf shows, per layer.</summary>
public sealed class QuantizationPlan
{
    internal QuantizationPlan(QuantizationRequest request, IReadOnlyList<LayerQuantization> layers, IReadOnlyList<long> presentWeights)
    {
        Request = request;
        Layers = layers;
        PresentWeights = presentWeights;
    }

    public QuantizationRequest Request { get; }
    internal IReadOnlyList<LayerQuantization> Layers { get; }
    /// <summary>Present non-zero weights per layer (the ones quantized).</summary>
    public IReadOnlyList<long> PresentWeights { get; }
    /// <summary>Shared values (KMeans) or integer levels (Linear) per layer.</summary>
    public IReadOnlyList<int> Levels => Layers.Select(l => l.Levels).ToList();

    public IEnumerable<string> Describe() => Layers.Select((l, i) => $"layer {i}: {PresentWeights[i]} weights to {l}");
}
