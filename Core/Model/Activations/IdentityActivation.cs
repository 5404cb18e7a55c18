using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// f(x) = x: a linear network, as scikit-learn's activation='identity'. ONNX has nothing between
/// the layers (the graph reader reads a layer that follows a layer directly as this), and
/// torch.nn.Identity sits between the Linear modules.
/// </summary>
[ActivationName("Identity", Order = 8)]
internal sealed class IdentityActivation : Activation
{
    private IdentityActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => h;

    internal override bool TryForward(Span<float> values) => true;

    internal override bool TryBackward(ReadOnlySpan<float> inputs, Span<float> gradient) => true;

    internal override double Forward(double v) => v;

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) => x;

    // No nodes to match: the graph reader sees the missing activation itself.
    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers) => null;
}
