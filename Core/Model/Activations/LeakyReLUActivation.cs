using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// x for x ≥ 0, slope · x below; ONNX LeakyRelu(alpha = slope). The slope defaults to PyTorch's
/// 0.01, the only slope files written before it became a parameter knew.
/// </summary>
[ActivationName("LeakyReLU", Order = 4)]
internal sealed class LeakyReLUActivation : Activation
{
    private LeakyReLUActivation() : this(0.01) { }
    private LeakyReLUActivation(double slope) : base(new[] { slope }) { }

    public double NegativeSlope => Parameters[0];

    public override IReadOnlyList<string> ParameterNames { get; } = new[] { "negative_slope" };

    private protected override Activation With(double[] parameters) => new LeakyReLUActivation(parameters[0]);

    internal override Tensor Forward(Tensor h) => nn.functional.leaky_relu(h, NegativeSlope);

    internal override double Forward(double v) => v >= 0 ? v : NegativeSlope * v;

    internal override bool TryForward(Span<float> values)
    {
        // As LibTorch: the slope in float32, applied where the value is not positive.
        float slope = (float)NegativeSlope;
        for (int i = 0; i < values.Length; i++) if (values[i] <= 0) values[i] *= slope;
        return true;
    }

    internal override bool TryBackward(ReadOnlySpan<float> inputs, Span<float> gradient)
    {
        float slope = (float)NegativeSlope;
        for (int i = 0; i < gradient.Length; i++) if (!(inputs[i] > 0)) gradient[i] *= slope;
        return true;
    }

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix) =>
        WriteNode(graph, "LeakyRelu", x, prefix, ("alpha", (float)NegativeSlope));

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        if (Unary(consumers, x, "LeakyRelu") is not { } n) return null;
        float alpha = n.FloatAttribute("alpha", 0.01f);
        if (!float.IsFinite(alpha)) throw graph.Refuse(n, $"has alpha {alpha}; a negative slope must be a finite number");
        return Match(new LeakyReLUActivation(FromFloat(alpha)), n.Output, n);
    }
}
