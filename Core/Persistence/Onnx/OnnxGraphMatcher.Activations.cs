using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace SparsePrune;

/// <summary>
/// The graph matcher's activations: the registered <see cref="Activation"/> classes read their own
/// nodes (<see cref="Activation.MatchOnnx"/>) through the views below; the matcher checks that one
/// kind sits between every two layers, and reads layers that follow each other directly as Identity.
/// </summary>
internal sealed partial class OnnxGraphMatcher
{
    private void SetActivation(Activation kind, NodeProto node, ref Activation? activation, ref NodeProto? first, bool afterLayer, bool activationSinceLayer, bool softmax)
    {
        var what = OnnxReadErrors.Describe(node);
        if (softmax) throw Unsupported($"{what} follows the Softmax");
        if (activationSinceLayer) throw Unsupported($"{what} follows another activation with no layer between them");
        if (!afterLayer) throw Unsupported($"{what} comes before the first layer");
        if (activation is { } a && a != kind)
            throw Unsupported($"it mixes activations: {Computes(node, kind)}, but {Computes(first!, a)}; a SparsePrune MLP has one activation kind for all its layers");
        activation = kind;
        first ??= node;
    }

    /// <summary>"{node} computes {kind}"; a layer that follows a layer directly has no activation node: Identity.</summary>
    private static string Computes(NodeProto node, Activation kind) =>
        kind is IdentityActivation && node.OpType is "Gemm" or "MatMul"
            ? $"{OnnxReadErrors.Describe(node)} follows a layer directly (Identity)"
            : $"{OnnxReadErrors.Describe(node)} computes {kind}";

    /// <summary>The activation that the unmatched nodes reading <paramref name="value"/> compute, or null.</summary>
    private OnnxActivationMatch? MatchActivation(string value, List<NodeProto> consumers) =>
        Activation.MatchOnnx(new GraphView(this), value, consumers.Select(n => (IOnnxActivationNode)new NodeView(n)).ToList());

    private static NodeProto Proto(IOnnxActivationNode node) => ((NodeView)node).Proto;

    /// <summary>A protobuf node as an activation reads it.</summary>
    private sealed class NodeView : IOnnxActivationNode
    {
        public NodeView(NodeProto proto) => Proto = proto;

        public NodeProto Proto { get; }
        public string OpType => IsStandard(Proto) ? Proto.OpType : $"{Proto.Domain}:{Proto.OpType}";
        public IReadOnlyList<string> Inputs => Proto.Input;
        public string Output => Proto.Output.Count > 0 ? Proto.Output[0] : "";
        public float FloatAttribute(string name, float fallback) => OnnxGraphMatcher.FloatAttribute(Proto, name, fallback);
        public string StringAttribute(string name, string fallback) => OnnxGraphMatcher.StringAttribute(Proto, name, fallback);
    }

    /// <summary>The graph as an activation reads it: unmatched consumers, scalar constants, refusals naming the node.</summary>
    private sealed class GraphView : IOnnxActivationGraph
    {
        private readonly OnnxGraphMatcher _matcher;

        public GraphView(OnnxGraphMatcher matcher) => _matcher = matcher;

        public IReadOnlyList<IOnnxActivationNode> ConsumersOf(string value) =>
            _matcher.ConsumersOf(value).Select(n => (IOnnxActivationNode)new NodeView(n)).ToList();

        public double? Scalar(string value) =>
            _matcher._constants.TryGetValue(value, out var c) && c.IsScalar ? c.Values![0] : null;

        public Exception Refuse(IOnnxActivationNode node, string why) =>
            _matcher.Unsupported($"{OnnxReadErrors.Describe(Proto(node))} {why}");
    }
}
