using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>x for x &gt; 0, α · (e^x − 1) below (Clevert et al. 2015); ONNX Elu(alpha). α defaults to 1, as in PyTorch.</summary>
[ActivationName("ELU", Order = 5)]
internal sealed class ELUActivation : Activation
{
    private ELUActivation() : this(1.0) { }
    private ELUActivation(double alpha) : base(new[] { alpha }) { }

    public double Alpha => Parameters[0];

    public override IReadOnlyList<string> ParameterNames { get; } = new[] { "alpha" };

    private protected override Activation With(double[] parameters) => new ELUActivation(parameters[0]);

    internal override Tensor Forward(Tensor h) => nn.functional.elu(h, Alpha);

    internal override double Forward(double v) => v > 0 ? v : Alpha * (Math.Exp(v) - 1);

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) =>
        WriteNode(graph, "Elu", x, prefix, ("alpha", (float)Alpha));

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        if (Unary(consumers, x, "Elu") is not { } n) return null;
        float alpha = n.FloatAttribute("alpha", 1f);
        if (!float.IsFinite(alpha)) throw graph.Refuse(n, $"has alpha {alpha}; ELU's alpha must be a finite number");
        return Match(new ELUActivation(FromFloat(alpha)), n.Output, n);
    }
}
