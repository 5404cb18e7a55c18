namespace SparsePrune;

/// <summary>The graph an <see cref="Activation"/> writes its nodes into (see <see cref="Activation.WriteOnnx"/>).</summary>
internal interface IOnnxActivationWriter
{
    /// <summary>The opset the graph is written for.</summary>
    int Opset { get; }
    /// <summary>Adds a standard-domain node named as its output, with float attributes.</summary>
    void Node(string op, IReadOnlyList<string> inputs, string output, params (string Name, float Value)[] attributes);
    /// <summary>A float scalar initializer shared by the whole graph (added once); returns its name.</summary>
    string Scalar(string name, float value);
}
