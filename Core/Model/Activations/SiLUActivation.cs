using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// x · σ(x) (SiLU, also Swish with β = 1). ONNX before opset 24 has no op for it, so it is
/// written and read as exporters write nn.SiLU(): Sigmoid(x) and Mul of x by it (either order).
/// </summary>
[ActivationName("SiLU", Order = 6, Aliases = new[] { "Swish" })]
internal sealed class SiLUActivation : Activation
{
    private SiLUActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => nn.functional.silu(h);

    internal override double Forward(double v) => v / (1 + Math.Exp(-v));

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix)
    {
        string gate = prefix + ".silu.sigmoid", y = prefix + ".act";
        graph.Node("Sigmoid", new[] { x }, gate);
        graph.Node("Mul", new[] { x, gate }, y);
        return y;
    }

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        if (consumers.Count != 2) return null;
        var sigmoid = consumers.FirstOrDefault(n => n.OpType == "Sigmoid" && n.Inputs.Count == 1 && n.Inputs[0] == x && n.Output.Length > 0);
        if (sigmoid is null) return null;
        var mul = consumers.First(n => !ReferenceEquals(n, sigmoid));
        if (mul.OpType != "Mul" || mul.Output.Length == 0 || Other(mul, x) != sigmoid.Output) return null;
        if (graph.ConsumersOf(sigmoid.Output).Count != 1) return null;
        return Match(this, mul.Output, sigmoid, mul);
    }
}
