namespace SparsePrune;

/// <summary>
/// The <c>metadata_props</c> keys of SparsePrune's own ONNX files, written by <see cref="OnnxWriter"/>
/// and read back by <see cref="OnnxReader"/>. Values are strings; lists are JSON arrays. Files from
/// other exporters have none of them.
/// </summary>
internal static class OnnxMetadataKeys
{
    /// <summary>"Classification" or "Regression".</summary>
    public const string Task = "sparseprune.task";
    /// <summary>All widths, input first, as a JSON array: "[64,128,10]".</summary>
    public const string Widths = "sparseprune.widths";
    /// <summary>SparsePrune's spelling of the activation (<see cref="SparsePrune.Activation"/>): "ReLU", "LeakyReLU" (slope 0.01), "LeakyReLU(0.2)".</summary>
    public const string Activation = "sparseprune.activation";
    /// <summary>JSON array of the class labels in output order (classifiers that know them).</summary>
    public const string ClassNames = "sparseprune.class_names";
    /// <summary>JSON array of the input feature names (when known).</summary>
    public const string FeatureNames = "sparseprune.feature_names";
    /// <summary>The compression report's totals (invariant culture, round-trip format).</summary>
    public const string Sparsity = "sparseprune.sparsity";
    public const string PruningRatio = "sparseprune.pruning_ratio";
    /// <summary>1 − non-zero weights / baseline weights: masked and pruned together (Sparsity counts present weights only).</summary>
    public const string OverallSparsity = "sparseprune.overall_sparsity";
    /// <summary>
    /// The report's WeightCompressionRatio: the layers' dense float32 bytes at baseline over the
    /// bytes a .spmlp file spends on them. SparsePrune 0.2.0 wrote it as "sparseprune.compression_ratio";
    /// that key is no longer written: the report's CompressionRatio is now the .spmlp file's
    /// ratio, which says nothing of this file (and would cost a whole .spmlp write to know).
    /// </summary>
    public const string WeightCompressionRatio = "sparseprune.weight_compression_ratio";
    public const string Name = "sparseprune.name";
    /// <summary>"SparsePrune" (the version is in <see cref="ProducerVersion"/>).</summary>
    public const string Producer = "sparseprune.producer";
    public const string ProducerVersion = "sparseprune.producer_version";
    /// <summary>"raw": the graph takes unnormalized rows.</summary>
    public const string Inputs = "sparseprune.inputs";
    /// <summary>The normalization folded into the first layer: Standard, MinMax or None.</summary>
    public const string FoldedNormalization = "sparseprune.folded_normalization";
    public const string Seed = "sparseprune.seed";
    /// <summary>LeakyReLU's negative slope, only for that activation ("0.01", "0.2"); the activation's spelling holds it too.</summary>
    public const string NegativeSlope = "sparseprune.negative_slope";
}
