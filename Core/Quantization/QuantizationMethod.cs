namespace SparsePrune;

/// <summary>How Invoke-Quantization quantizes a layer's weights.</summary>
public enum QuantizationMethod
{
    /// <summary>Trained weight sharing (Deep Compression): k-means over the present non-zero weights, 2^bits shared values.</summary>
    KMeans,
    /// <summary>Uniform affine quantization per output row (int8 by default), as ONNX Runtime and torch.ao quantize.</summary>
    Linear,
}
