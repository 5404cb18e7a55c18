namespace SparsePrune;

/// <summary>The JSON metadata block of a .spmlp file: everything but the tensors.</summary>
internal sealed class SpmlpMetadata
{
    public string Name { get; set; } = "";
    public string Activation { get; set; } = "";
    public string Task { get; set; } = "";
    public int Seed { get; set; }
    public string InputNormalization { get; set; } = nameof(Normalization.None);
    public string[]? FeatureNames { get; set; }
    public string[]? ClassNames { get; set; }
    public string? DatasetName { get; set; }
    public ModelBaseline? Baseline { get; set; }
    public List<HistoryRecord> History { get; set; } = new();
    /// <summary>Per layer, the original index of each output neuron (null: none removed); for rewinding.</summary>
    public int[]?[]? NeuronOrigins { get; set; }
    /// <summary>Per layer, the kernel Optimize-Mlp chose (null: every layer Auto).</summary>
    public string[]? Kernels { get; set; }
    /// <summary>
    /// Version 2 only, read and never written: per layer, its quantization (null: no layer
    /// quantized; an entry null: that layer free). Version 3 keeps it in the layer sections.
    /// </summary>
    public LayerQuantizationRecord?[]? Quantization { get; set; }
    /// <summary>
    /// The time of the model's last recorded change (its last history record, else its baseline,
    /// else the Unix epoch), not the wall clock: a file is a function of the model, so writing
    /// one model twice gives the same bytes and Get-CompressionReport's FileBytes is its length.
    /// </summary>
    public DateTime Saved { get; set; }
    public string Writer { get; set; } = "";

    public static SpmlpMetadata From(Mlp m, DateTime? saved = null) => new()
    {
        Name = m.Name, Activation = m.Activation.ToString(), Task = m.Task.ToString(), Seed = m.Seed,
        InputNormalization = m.InputNormalization.ToString(), FeatureNames = m.FeatureNames, ClassNames = m.ClassNames,
        DatasetName = m.Dataset?.Name ?? m.DatasetNameFromFile, Baseline = m.Baseline, History = m.History.ToList(), Saved = saved ?? m.History.LastOrDefault()?.Time ?? m.Baseline?.Time ?? DateTime.UnixEpoch,
        NeuronOrigins = m.Origins.Any ? m.Origins.Layers : null,
        Kernels = m.State.Any(l => l.Kernel != LayerKernel.Auto) ? m.State.Select(l => l.Kernel.ToString()).ToArray() : null,
        Writer = "SparsePrune " + typeof(SpmlpFormat).Assembly.GetName().Version,
    };
}
