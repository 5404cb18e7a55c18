using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>1 / (1 + e^−x); ONNX Sigmoid. scikit-learn calls it "logistic".</summary>
[ActivationName("Sigmoid", Order = 2, Aliases = new[] { "Logistic" })]
internal sealed class SigmoidActivation : Activation
{
    private SigmoidActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => h.sigmoid();

    internal override double Forward(double v) => 1 / (1 + Math.Exp(-v));

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) => WriteNode(graph, "Sigmoid", x, prefix);

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers) =>
        Unary(consumers, x, "Sigmoid") is { } n ? Match(this, n.Output, n) : null;
}
