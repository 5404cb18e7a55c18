using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>tanh(x); ONNX Tanh.</summary>
[ActivationName("Tanh", Order = 1)]
internal sealed class TanhActivation : Activation
{
    private TanhActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => h.tanh();

    internal override double Forward(double v) => Math.Tanh(v);

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) => WriteNode(graph, "Tanh", x, prefix);

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers) =>
        Unary(consumers, x, "Tanh") is { } n ? Match(this, n.Output, n) : null;
}
