namespace SparsePrune;

/// <summary>
/// How Invoke-Quantization quantizes a layer's weights: the names users type (-Method). Each value
/// names a registered <see cref="QuantizationScheme"/> (<see cref="QuantizationRequest"/> maps it,
/// the one place that does); what a method does is its scheme's class.
/// </summary>
public enum QuantizationMethod
{
    /// <summary>Trained weight sharing (Deep Compression): k-means over the present non-zero weights, 2^bits shared values.</summary>
    KMeans,
    /// <summary>Uniform affine quantization per output row (int8 by default), as ONNX Runtime and torch.ao quantize.</summary>
    Linear,
    /// <summary>Logarithmic quantization per layer: 0 and ±2^e for 2^(bits−1) − 1 exponents up to the layer's largest.</summary>
    PowerOfTwo,
}
