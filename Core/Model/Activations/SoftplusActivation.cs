using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// log(1 + e^(β·x)) / β, and x where β·x exceeds the threshold (PyTorch's nn.Softplus, β = 1 and
/// threshold 20 by default). ONNX's Softplus has β = 1 and no threshold; SparsePrune writes
/// Softplus(x), or Div(Softplus(Mul(x, β)), β) as torch.onnx.export writes a β, and reads those
/// and log(1 + e^x) as Log(Add(Exp(x), 1)). A threshold of 20 or more changes no float32 value
/// (past it log(1 + e^(β·x))/β and x differ by under e^−20/β, below x's rounding), so ONNX
/// holds any such threshold; a smaller one has no ONNX form here.
/// </summary>
[ActivationName("Softplus", Order = 7)]
internal sealed class SoftplusActivation : Activation
{
    /// <summary>From here on ONNX's Softplus (no threshold) and PyTorch's agree in float32.</summary>
    private const double OnnxThreshold = 20;

    private SoftplusActivation() : this(1, 20) { }
    private SoftplusActivation(double beta, double threshold) : base(new[] { beta, threshold }) { }

    public double Beta => Parameters[0];
    public double Threshold => Parameters[1];

    public override IReadOnlyList<string> ParameterNames { get; } = new[] { "beta", "threshold" };

    private protected override string? Check(int index, double value) =>
        !double.IsFinite(value) ? "it must be a finite number"
        : index == 0 && value <= 0 ? "beta must be greater than 0"
        : null;

    private protected override Activation With(double[] parameters) => new SoftplusActivation(parameters[0], parameters[1]);

    internal override Tensor Forward(Tensor h) => nn.functional.softplus(h, Beta, Threshold);

    internal override double Forward(double v) => Beta * v > Threshold ? v : Math.Log(1 + Math.Exp(Beta * v)) / Beta;

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix)
    {
        if (Threshold < OnnxThreshold)
            throw new SparsePruneException("UnsupportedActivation", ErrorKind.NotSupported,
                $"{this} has the threshold {Format(Threshold)}; ONNX's Softplus has none, which matches PyTorch's only for a threshold of {Format(OnnxThreshold)} or more. Export it as SafeTensors or .spmlp.");
        if (Beta == 1) return WriteNode(graph, "Softplus", x, prefix);
        string p = prefix + ".softplus", y = prefix + ".act";
        var beta = graph.Scalar($"{p}.beta", (float)Beta);
        graph.Node("Mul", new[] { x, beta }, p + ".scaled");
        graph.Node("Softplus", new[] { p + ".scaled" }, p + ".softplus");
        graph.Node("Div", new[] { p + ".softplus", beta }, y);
        return y;
    }

    /// <summary>A graph holds no threshold: a stated one of 20 or more agrees with it (see the class remarks).</summary>
    internal override bool AgreesWithGraph(Activation graph) =>
        graph is SoftplusActivation s && (float)s.Beta == (float)Beta && Threshold >= OnnxThreshold;

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        if (Unary(consumers, x, "Softplus") is { } softplus) return Match(this, softplus.Output, softplus);

        // torch.onnx.export of nn.Softplus(beta): Div(Softplus(Mul(x, β)), β).
        if (Unary(consumers, x, "Mul") is { } scale && graph.Scalar(Other(scale, x) ?? "") is { } b && b > 0 && double.IsFinite(b)
            && Single(graph, scale.Output, "Softplus") is { } inner && Single(graph, inner.Output, "Div") is { } div
            && div.Inputs.Count == 2 && div.Inputs[0] == inner.Output && IsScalar(graph, div.Inputs[1], b))
            return Match(new SoftplusActivation(FromFloat((float)b), 20), div.Output, scale, inner, div);

        // log(1 + e^x), as Log(Add(Exp(x), 1)).
        if (Unary(consumers, x, "Exp") is { } exp && Single(graph, exp.Output, "Add") is { } add
            && IsScalar(graph, Other(add, exp.Output), 1) && Single(graph, add.Output, "Log") is { } log)
            return Match(this, log.Output, exp, add, log);
        return null;
    }
}
