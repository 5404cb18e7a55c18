namespace SparsePrune;

/// <summary>
/// An activation found in an ONNX graph: what it computes, the nodes that compute it (the first
/// one names it in messages) and the value they leave for the next layer.
/// </summary>
internal sealed record OnnxActivationMatch(Activation Activation, IReadOnlyList<IOnnxActivationNode> Nodes, string Output);
