namespace SparsePrune;

/// <summary>
/// What <see cref="OnnxGraphMatcher"/> found: the layers in order, the one activation between
/// them (null with a single layer), whether the graph ends in a Softmax, and the graph input.
/// </summary>
internal sealed record OnnxMlpGraph(string InputName, IReadOnlyList<OnnxLinearLayer> Layers, Activation? Activation, bool EndsInSoftmax);
