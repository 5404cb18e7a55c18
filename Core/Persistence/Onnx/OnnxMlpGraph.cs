namespace SparsePrune;

/// <summary>
/// What <see cref="OnnxGraphMatcher"/> found: the layers in order, the one activation between
/// them (null with a single layer), whether the graph ends in a Softmax, the graph input, and
/// the class labels the graph itself lists (skl2onnx's classifiers; null when it lists none).
/// </summary>
internal sealed record OnnxMlpGraph(string InputName, IReadOnlyList<OnnxLinearLayer> Layers, Activation? Activation, bool EndsInSoftmax, string[]? Labels);
