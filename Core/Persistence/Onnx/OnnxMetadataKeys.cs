namespace SparsePrune;

/// <summary>
/// The <c>metadata_props</c> keys of SparsePrune's own ONNX files. Values are strings; lists are
/// JSON arrays. Files from other exporters have none of them.
/// </summary>
internal static class OnnxMetadataKeys
{
    public const string Task = "sparseprune.task";
    /// <summary>All widths, input first, as a JSON array: "[64,128,10]".</summary>
    public const string Widths = "sparseprune.widths";
    /// <summary>SparsePrune's name of the activation: ReLU, Tanh, Sigmoid, GELU, LeakyReLU.</summary>
    public const string Activation = "sparseprune.activation";
    public const string ClassNames = "sparseprune.class_names";
    public const string FeatureNames = "sparseprune.feature_names";
    public const string Name = "sparseprune.name";
    public const string Seed = "sparseprune.seed";
}
