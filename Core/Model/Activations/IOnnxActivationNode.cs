namespace SparsePrune;

/// <summary>
/// One ONNX node as an <see cref="Activation"/> sees it while reading a graph: the ONNX reader
/// wraps its protobuf nodes in this, so the activations (a lower floor than Persistence) never
/// name ONNX's types.
/// </summary>
internal interface IOnnxActivationNode
{
    /// <summary>The op type; a node outside the standard ONNX domain reads "domain:op", which no activation matches.</summary>
    string OpType { get; }
    IReadOnlyList<string> Inputs { get; }
    /// <summary>Its first output ("" when it has none).</summary>
    string Output { get; }
    float FloatAttribute(string name, float fallback);
    string StringAttribute(string name, string fallback);
}
