using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The exact GELU, x · Φ(x) = x · ½ · (1 + erf(x / √2)) (PyTorch's nn.GELU(), approximate 'none').
/// ONNX: Gelu from opset 20; below it the Erf form torch.onnx.export writes, which both ways here
/// read: (x · (Erf(x / √2) + 1)) · 0.5, with x · 1/√2 for the division or 0.5 applied to x first.
/// </summary>
[ActivationName("GELU", Order = 3)]
internal sealed class GELUActivation : Activation
{
    private const string InvSqrt2 = "gelu.inv_sqrt2", One = "gelu.one", Half = "gelu.half";

    private GELUActivation() : base(Array.Empty<double>()) { }

    internal override Tensor Forward(Tensor h) => nn.functional.gelu(h);

    internal override double Forward(double v) => 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        using var scope = NewDisposeScope();
        return tensor(x, ScalarType.Float64).erf().item<double>();
    }

    internal override string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix)
    {
        // approximate = "none" (the default): the exact erf form, as torch's gelu.
        if (graph.Opset >= 20) return WriteNode(graph, "Gelu", x, prefix);
        // x · 0.5 · (1 + erf(x · 1/√2)); the constants are shared scalars.
        var invSqrt2 = graph.Scalar(InvSqrt2, (float)(1 / Math.Sqrt(2)));
        var one = graph.Scalar(One, 1f);
        var half = graph.Scalar(Half, 0.5f);
        string p = prefix + ".gelu", y = prefix + ".act";
        graph.Node("Mul", new[] { x, invSqrt2 }, p + ".scaled");
        graph.Node("Erf", new[] { p + ".scaled" }, p + ".erf");
        graph.Node("Add", new[] { p + ".erf", one }, p + ".shifted");
        graph.Node("Mul", new[] { x, p + ".shifted" }, p + ".gated");
        graph.Node("Mul", new[] { p + ".gated", half }, y);
        return y;
    }

    internal override OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        if (Unary(consumers, x, "Gelu") is { } gelu)
        {
            var approximate = gelu.StringAttribute("approximate", "none");
            if (approximate != "none")
                throw graph.Refuse(gelu, $"has approximate '{approximate}'; SparsePrune's GELU is the exact (Erf) form, approximate 'none'");
            return Match(this, gelu.Output, gelu);
        }
        return consumers.Count == 2 ? ReadErfForm(graph, x, consumers) : null;
    }

    /// <summary>The Erf form; <paramref name="consumers"/> are the two nodes that read x.</summary>
    private OnnxActivationMatch? ReadErfForm(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        var scale = consumers.FirstOrDefault(n =>
            n.Inputs.Count == 2 && n.Output.Length > 0 && n.Inputs[0] == x &&
            ((n.OpType == "Div" && IsScalar(graph, n.Inputs[1], Math.Sqrt(2))) || (n.OpType == "Mul" && IsScalar(graph, n.Inputs[1], 1 / Math.Sqrt(2)))));
        if (scale is null) return null;
        var product = consumers.First(n => !ReferenceEquals(n, scale));
        if (product.OpType != "Mul" || product.Inputs.Count != 2 || product.Output.Length == 0) return null;

        var erf = Single(graph, scale.Output, "Erf");
        if (erf is null) return null;
        var plusOne = Single(graph, erf.Output, "Add");
        if (plusOne is null || !IsScalar(graph, Other(plusOne, erf.Output), 1)) return null;
        string onePlusErf = plusOne.Output;

        var otherOfProduct = Other(product, x);
        var last = Single(graph, product.Output, "Mul");
        if (last is null || graph.ConsumersOf(onePlusErf).Count != 1) return null;
        if (otherOfProduct == onePlusErf)
        {
            // (x · (1 + erf)) · 0.5
            if (!IsScalar(graph, Other(last, product.Output), 0.5)) return null;
        }
        else if (IsScalar(graph, otherOfProduct, 0.5))
        {
            // (x · 0.5) · (1 + erf)
            if (Other(last, product.Output) != onePlusErf) return null;
        }
        else return null;
        return Match(this, last.Output, erf, scale, plusOne, product, last);
    }
}
