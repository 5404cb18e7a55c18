namespace SparsePrune;

/// <summary>The graph an <see cref="Activation"/> reads its nodes from (see <see cref="Activation.ReadOnnx"/>).</summary>
internal interface IOnnxActivationGraph
{
    /// <summary>The nodes not yet matched that read <paramref name="value"/>.</summary>
    IReadOnlyList<IOnnxActivationNode> ConsumersOf(string value);
    /// <summary>The value of <paramref name="value"/> when it is a constant with one element.</summary>
    double? Scalar(string value);
    /// <summary>The error for a node that is this activation's op but with settings SparsePrune cannot hold.</summary>
    Exception Refuse(IOnnxActivationNode node, string why);
}
