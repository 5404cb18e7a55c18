using Onnx;

namespace SparsePrune;

/// <summary>The two ways an ONNX import fails: a graph of another shape, or bytes that are not a valid model.</summary>
internal static class OnnxReadErrors
{
    public const string UnsupportedId = "UnsupportedOnnxGraph";
    public const string CorruptId = "CorruptModelFile";

    private const string WhatItReads =
        "SparsePrune reads one input through a chain of Gemm (or MatMul and Add) layers with constant weights, " +
        "one activation kind between them (Relu, Tanh, Sigmoid, LeakyRelu, Elu, Gelu or its Erf form, x·Sigmoid(x), Softplus, or none), " +
        "optionally ending in Softmax, Identity or Flatten";

    /// <summary>A valid ONNX model that is not an MLP SparsePrune can hold: UnsupportedOnnxGraph (NotSupported).</summary>
    public static SparsePruneException Unsupported(string source, string what) =>
        new(UnsupportedId, ErrorKind.NotSupported, $"{source} is an ONNX graph SparsePrune cannot read as an MLP: {what}. {WhatItReads}.");

    /// <summary>Bytes that are not a valid ONNX model, or one that contradicts itself: CorruptModelFile (InvalidData).</summary>
    public static SparsePruneException Corrupt(string source, string what, Exception? inner = null) =>
        new(CorruptId, ErrorKind.InvalidData, $"{source} is not a valid ONNX model: {what}.", inner);

    /// <summary>How a message names a node: its name (when it has one) and its op type.</summary>
    public static string Describe(NodeProto node)
    {
        var op = string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
        if (!string.IsNullOrEmpty(node.Name)) return $"node '{node.Name}' ({op})";
        return node.Output.Count > 0 ? $"the {op} node that writes '{node.Output[0]}'" : $"a {op} node without a name";
    }
}
