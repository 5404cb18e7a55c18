namespace SparsePrune;

/// <summary>
/// Everything Invoke-Quantization can be told, exactly as given: null means "not given". Every
/// default and every "does not apply" rule lives here, once, in <see cref="Resolve"/>; the checks
/// that need the model or its data (bits per layer, a data set to fine-tune on) stay with the
/// quantizer, which sees them.
/// </summary>
public sealed record QuantizationSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Invoke-Quantization";

    /// <summary>No fine-tuning unless asked: quantizing alone needs no data.</summary>
    public const int DefaultFineTuneEpochs = 0;

    private static readonly QuantizationRequest BaseRequest = new();
    private static readonly TrainingOptions BaseTraining = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it (text where the default depends on another setting).</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Method"] = BaseRequest.Method,
        ["Bits"] = EachSchemesBits(),
        ["FineTuneEpochs"] = DefaultFineTuneEpochs,
        ["FineTuneLearningRate"] = TrainingOptions.AdamLearningRate,
        ["BatchSize"] = BaseTraining.BatchSize,
        ["Temperature"] = DistillationOptions.DefaultTemperature,
        ["DistillationWeight"] = DistillationOptions.DefaultWeight,
    };

    /// <summary>Each registered scheme's own default bits, e.g. "5 (KMeans), 8 (Linear) or 4 (PowerOfTwo)": a new scheme changes this text, and the help test then asks for help to say so.</summary>
    private static string EachSchemesBits()
    {
        var each = QuantizationScheme.All.Select(s => $"{s.DefaultBits} ({s.Name})").ToList();
        return each.Count == 1 ? each[0] : string.Join(", ", each.Take(each.Count - 1)) + " or " + each[^1];
    }

    public QuantizationMethod? Method { get; init; }
    /// <summary>Bits per weight: one value for every layer, or one per layer.</summary>
    public int[]? Bits { get; init; }
    /// <summary>Bits of each layer's bias codebook: one value or one per layer, 0 float32 (null: float32 biases).</summary>
    public int[]? BiasBits { get; init; }
    public int? FineTuneEpochs { get; init; }
    public double? FineTuneLearningRate { get; init; }
    public int? BatchSize { get; init; }
    public int? Seed { get; init; }
    public Mlp? Teacher { get; init; }
    public double? Temperature { get; init; }
    public double? DistillationWeight { get; init; }

    /// <summary>Checks which settings combine, fills in the defaults and returns the quantization to run.</summary>
    public QuantizationJob Resolve()
    {
        var distillation = DistillationOptions.From(Teacher, Temperature, DistillationWeight);
        int fineTune = FineTuneEpochs ?? DefaultFineTuneEpochs;
        if (distillation is not null && fineTune == 0)
            throw SparsePruneException.Argument("ParameterNotApplicable", "-Teacher distils into the fine-tuning of the shared values: give -FineTuneEpochs too.");
        var request = new QuantizationRequest { Method = Method ?? BaseRequest.Method, Bits = Bits, BiasBits = BiasBits };
        // The learning rate stays null when not given: the optimizer's own default (Adam: 0.001) applies.
        var training = new TrainingOptions { LearningRate = FineTuneLearningRate, BatchSize = BatchSize ?? BaseTraining.BatchSize, Seed = Seed, Distillation = distillation };
        return new QuantizationJob(request, fineTune, training);
    }
}
