using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace SparsePrune;

/// <summary>The graph matcher's activations: one kind between the layers, and GELU's Erf pattern.</summary>
internal sealed partial class OnnxGraphMatcher
{
    private void SetActivation(Activation kind, NodeProto node, ref Activation? activation, ref NodeProto? first, bool afterLayer, bool activationSinceLayer, bool softmax)
    {
        var what = OnnxReadErrors.Describe(node);
        if (softmax) throw Unsupported($"{what} follows the Softmax");
        if (activationSinceLayer) throw Unsupported($"{what} follows another activation with no layer between them");
        if (!afterLayer) throw Unsupported($"{what} comes before the first layer");
        if (activation is { } a && a != kind)
            throw Unsupported($"it mixes activations: {what} computes {kind}, but {OnnxReadErrors.Describe(first!)} computes {a}; a SparsePrune MLP has one activation kind for all its layers");
        activation = kind;
        first ??= node;
    }

    /// <summary>
    /// GELU as torch.onnx.export writes nn.GELU() below opset 20:
    /// y = (x · (Erf(x / √2) + 1)) · 0.5 (also x · 1/√2, and 0.5 applied to x first).
    /// <paramref name="consumers"/> are the two nodes that read x.
    /// </summary>
    private bool TryErfGelu(string x, List<NodeProto> consumers, out string output, out List<NodeProto> nodes)
    {
        output = "";
        nodes = new List<NodeProto>();
        if (!consumers.All(IsStandard)) return false;
        var scale = consumers.FirstOrDefault(n =>
            n.Input.Count == 2 && n.Output.Count >= 1 && n.Input[0] == x &&
            ((n.OpType == "Div" && IsScalar(n.Input[1], Math.Sqrt(2))) || (n.OpType == "Mul" && IsScalar(n.Input[1], 1 / Math.Sqrt(2)))));
        if (scale is null) return false;
        var product = consumers.First(n => !ReferenceEquals(n, scale));
        if (product.OpType != "Mul" || product.Input.Count != 2 || product.Output.Count < 1) return false;

        var erf = Single(scale.Output[0], "Erf");
        if (erf is null) return false;
        var plusOne = Single(erf.Output[0], "Add");
        if (plusOne is null || plusOne.Input.Count != 2 || !IsScalar(Other(plusOne, erf.Output[0]), 1)) return false;
        string onePlusErf = plusOne.Output[0];

        string? result;
        NodeProto? last;
        var otherOfProduct = Other(product, x);
        if (otherOfProduct == onePlusErf)
        {
            // (x · (1 + erf)) · 0.5
            last = Single(product.Output[0], "Mul");
            if (last is null || last.Input.Count != 2 || !IsScalar(Other(last, product.Output[0]), 0.5)) return false;
            if (ConsumersOf(onePlusErf).Count != 1) return false;
            result = last.Output[0];
        }
        else if (IsScalar(otherOfProduct, 0.5))
        {
            // (x · 0.5) · (1 + erf)
            last = Single(product.Output[0], "Mul");
            if (last is null || last.Input.Count != 2 || Other(last, product.Output[0]) != onePlusErf) return false;
            if (ConsumersOf(onePlusErf).Count != 1) return false;
            result = last.Output[0];
        }
        else return false;

        nodes.AddRange(new[] { erf, scale, plusOne, product, last });
        output = result;
        return true;
    }

    private bool IsScalar(string name, double expected) =>
        _constants.TryGetValue(name, out var c) && c.IsScalar && Math.Abs(c.Values![0] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected));
}
