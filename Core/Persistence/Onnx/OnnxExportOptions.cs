namespace SparsePrune;

/// <summary>How Export-Mlp writes an ONNX file.</summary>
public sealed record OnnxExportOptions
{
    public const int MinOpset = 13, MaxOpset = 21, DefaultOpset = 17;

    /// <summary>The default ONNX opset the graph declares (13 to 21).</summary>
    public int OpsetVersion { get; init; } = DefaultOpset;

    /// <summary>
    /// Connection-pruned layers as <c>sparse_initializer</c> entries (values and indices) instead
    /// of dense initializers with zeros in place: smaller files; ONNX Runtime densifies them on load.
    /// </summary>
    public bool SparseInitializers { get; init; }

    public void Validate()
    {
        if (OpsetVersion < MinOpset || OpsetVersion > MaxOpset)
            throw SparsePruneException.Argument("InvalidOpsetVersion", $"-OpsetVersion must be between {MinOpset} and {MaxOpset}; got {OpsetVersion}.");
    }
}
