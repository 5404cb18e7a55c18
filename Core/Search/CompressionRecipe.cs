using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>
/// What every candidate of one Compress-Mlp search is made with, besides its own
/// <see cref="CompressionCandidateSpec"/>: the validation split (seed and share of the training
/// split), the epochs, batch size and objective. Travels as JSON to sweep workers, which carve the
/// same validation split from the same data set with it.
/// </summary>
public sealed record CompressionRecipe
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The seed of the validation split and of every candidate's training.</summary>
    public int Seed { get; init; }
    public double ValidationFraction { get; init; }
    /// <summary>Epochs of a pruning candidate (and of the reference).</summary>
    public int Epochs { get; init; }
    public int FineTuneEpochs { get; init; }
    /// <summary>Rows per training batch.</summary>
    public int BatchSize { get; init; }
    /// <summary>FileSize keeps dead neurons when removing them would grow the file.</summary>
    public CompressionObjective Objective { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CompressionRecipe FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<CompressionRecipe>(json, Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw SparsePruneException.BadData("CorruptCandidateSpec", $"A Compress-Mlp recipe could not be read: {e.Message}"); }
    }

    /// <summary>The split every candidate trains on (its training rows) and is judged on (its test rows).</summary>
    internal Dataset Validation(Dataset data) => data.SplitValidation(ValidationFraction, Seed);

    internal TrainingOptions Training(Mlp? teacher) => new()
    {
        BatchSize = BatchSize, Seed = Seed, Epochs = Epochs,
        Distillation = teacher is null ? null : new DistillationOptions { Teacher = teacher },
    };

    internal PruningRequest Request(PruneStructure structure, double ratio = 0) => new()
    {
        Structure = structure, Criterion = PruneCriterion.L1, Scope = structure == PruneStructure.Connection ? PruneScope.ERK : PruneScope.Layer,
        ScoringBatchSize = BatchSize, Ratio = ratio,
    };

    /// <summary>Gradual pruning over the candidate's epochs, the target raised about 20 times an epoch on large sets.</summary>
    internal ScheduleOptions Schedule(PruningRequest request, int fitRows, TrainingOptions training)
    {
        int stepsPerEpoch = Math.Max(1, (fitRows + BatchSize - 1) / BatchSize);
        return new ScheduleOptions
        {
            Schedule = PruneSchedule.Gradual, Epochs = Epochs, RampFraction = 0.5,
            UpdateEvery = Math.Clamp(stepsPerEpoch / 4, 1, 20),
            Regrow = request.Structure == PruneStructure.Connection,
            Training = training,
        };
    }
}
