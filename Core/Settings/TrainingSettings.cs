using System.Globalization;

namespace SparsePrune;

/// <summary>
/// Everything Invoke-Training can be told, exactly as given: null means "not given". The
/// defaults come from <see cref="TrainingOptions"/> (defined there once) and are published in
/// <see cref="Defaults"/>, which the help drift test compares with help's "Default value:" lines.
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Invoke-Training";

    private static readonly TrainingOptions Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it (text where the default depends on another setting).</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Epochs"] = Base.Epochs,
        ["BatchSize"] = Base.BatchSize,
        ["LearningRate"] = string.Create(CultureInfo.InvariantCulture, $"{TrainingOptions.AdamLearningRate} with Adam, {TrainingOptions.SgdLearningRate} with SGD"),
        ["Optimizer"] = Base.Optimizer,
        ["Momentum"] = Base.Momentum,
        ["WeightDecay"] = Base.WeightDecay,
        ["L1"] = Base.L1,
        ["LearningRateSchedule"] = Base.LearningRateSchedule,
        ["Temperature"] = DistillationOptions.DefaultTemperature,
        ["DistillationWeight"] = DistillationOptions.DefaultWeight,
    };

    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public OptimizerKind? Optimizer { get; init; }
    public double? Momentum { get; init; }
    public double? WeightDecay { get; init; }
    public double? L1 { get; init; }
    public LearningRateSchedule? LearningRateSchedule { get; init; }
    public int? Seed { get; init; }
    public bool? Dequantize { get; init; }
    public Mlp? Teacher { get; init; }
    public double? Temperature { get; init; }
    public double? DistillationWeight { get; init; }

    /// <summary>Fills in the defaults, checks which settings combine and what each may be, and returns the training to run.</summary>
    public TrainingOptions Resolve()
    {
        var options = new TrainingOptions
        {
            Epochs = Epochs ?? Base.Epochs, BatchSize = BatchSize ?? Base.BatchSize, LearningRate = LearningRate,
            Optimizer = Optimizer ?? Base.Optimizer, Momentum = Momentum ?? Base.Momentum, WeightDecay = WeightDecay ?? Base.WeightDecay,
            L1 = L1 ?? Base.L1, Seed = Seed, LearningRateSchedule = LearningRateSchedule ?? Base.LearningRateSchedule,
            Dequantize = Dequantize ?? false, Distillation = DistillationOptions.From(Teacher, Temperature, DistillationWeight),
        };
        options.Validate();
        return options;
    }
}
