using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>max(0, x); ONNX Relu.</summary>
[ActivationName("ReLU", Order = 0)]
internal sealed class ReLUActivation : Activation
{
    private ReLUActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => nn.functional.relu(h);

    internal override double Forward(double v) => Math.Max(0, v);

    internal override bool TryForward(Span<float> values)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        for (int i = 0; i < vectors.Length; i++) vectors[i] = Vector.Max(vectors[i], Vector<float>.Zero);
        for (int i = vectors.Length * Vector<float>.Count; i < values.Length; i++) if (values[i] < 0) values[i] = 0;
        return true;
    }

    internal override bool TryBackward(ReadOnlySpan<float> inputs, Span<float> gradient)
    {
        // As LibTorch's threshold backward: the gradient where the output is positive, else 0.
        for (int i = 0; i < gradient.Length; i++) if (!(inputs[i] > 0)) gradient[i] = 0;
        return true;
    }

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) => WriteNode(graph, "Relu", x, prefix);

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers) =>
        Unary(consumers, x, "Relu") is { } n ? Match(this, n.Output, n) : null;
}
