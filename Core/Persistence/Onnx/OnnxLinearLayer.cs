namespace SparsePrune;

/// <summary>
/// One linear layer found in an ONNX graph: <see cref="Weight"/> is [out, in] row-major (as a
/// torch Linear holds it), <see cref="Present"/> marks the connections a sparse initializer
/// lists (null: all present). <see cref="Source"/> names the node(s) it came from, for messages.
/// </summary>
internal sealed record OnnxLinearLayer(string Source, int Out, int In, float[] Weight, float[] Bias, bool[]? Present);
