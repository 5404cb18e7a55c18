using System.Text.Json;
using System.Text.Json.Nodes;

namespace SparsePrune;

/// <summary>
/// Makes Compress-Mlp's candidates: one function from the model as given, the validation split,
/// the recipe and a <see cref="CompressionCandidateSpec"/> to the candidate's model, whoever calls
/// it (the search in this session, or a sweep worker in another process or on another host). It
/// judges nothing: the search does that, in the session, for every candidate alike.
/// </summary>
public static class CompressionCandidateFactory
{
    /// <summary>Bits of the biases' own codebooks in the lean stage's lossy candidate (Invoke-Quantization -BiasBits).</summary>
    internal const int LeanBiasBits = 5;
    /// <summary>Significant bits the input scales keep in the lean stage's lossy candidate (Optimize-Mlp -FoldInputScaling -ScaleBits; 10 is a float16's).</summary>
    internal const int LeanScaleBits = 10;

    /// <summary>
    /// Makes the candidate <paramref name="spec"/> on a copy of <paramref name="basis"/> (the model
    /// the spec's Basis made) or, for a spec without one, of <paramref name="origin"/>. Completed
    /// is false when training was stopped (<paramref name="cancel"/>) before it ended.
    /// </summary>
    internal static (Mlp Model, bool Completed) Make(Mlp origin, Mlp? basis, Dataset validation, CompressionRecipe recipe, TrainingOptions training,
        CompressionCandidateSpec spec, Action<WorkProgress>? progress, CancellationToken cancel)
    {
        var from = spec.Basis is null ? origin : basis ?? throw new InvalidOperationException($"the candidate {spec.Describe()} needs the model it starts from");
        var copy = from.Clone();
        try
        {
            switch (spec.Stage)
            {
                case CompressionCandidateSpec.Reference:
                    return (copy, !Trainer.Train(copy, validation, training, progress, cancel).Stopped);
                case CompressionCandidateSpec.Sparsity or CompressionCandidateSpec.Neurons:
                {
                    var structure = spec.Stage == CompressionCandidateSpec.Sparsity ? PruneStructure.Connection : PruneStructure.Neuron;
                    var request = recipe.Request(structure, spec.Ratio ?? throw new InvalidOperationException("a pruning candidate needs its ratio"));
                    var result = PruningScheduler.Run(copy, request, recipe.Schedule(request, validation.TrainCount, training), validation, progress, cancel);
                    if (!result.Stopped && structure == PruneStructure.Connection) copy = WithoutDeadNeurons(copy, recipe.Objective);
                    return (copy, !result.Stopped);
                }
                case CompressionCandidateSpec.Bits:
                {
                    var request = new QuantizationRequest { Method = QuantizationMethod.KMeans, Bits = new[] { spec.CodeBits ?? throw new InvalidOperationException("a bits candidate needs its bits") } };
                    var plan = Quantizer.Plan(copy, request);
                    var result = Quantizer.Apply(copy, plan, validation, recipe.FineTuneEpochs, training with { Epochs = recipe.FineTuneEpochs }, progress, cancel);
                    return (copy, result is not { Stopped: true });
                }
                case CompressionCandidateSpec.Lean when spec.LeanKind == CompressionCandidateSpec.LeanExact:
                    // Refused (it would move an output beyond float rounding), nothing folds and the candidate shows it.
                    try { InputFolding.Fold(copy, validation); } catch (SparsePruneException) { }
                    return (copy, true);
                case CompressionCandidateSpec.Lean when spec.LeanKind == CompressionCandidateSpec.LeanRounded:
                    // The rounding moves outputs a little by design: the validation split judges it, not the fold's own check.
                    try { InputFolding.Fold(copy, validation, tolerance: 1, scaleBits: LeanScaleBits); } catch (SparsePruneException) { }
                    Quantizer.QuantizeBiases(copy, Enumerable.Repeat(LeanBiasBits, copy.LayerCount).ToArray(), validation);
                    return (copy, true);
                default:
                    throw SparsePruneException.BadData("CorruptCandidateSpec", $"A Compress-Mlp candidate description names an unknown stage: {spec}.");
            }
        }
        catch
        {
            Discard(copy);
            throw;
        }
    }

    /// <summary>
    /// What a sweep worker runs: the candidate <paramref name="specJson"/> made from the model as
    /// given (<paramref name="originBytes"/>, the bytes the session sent) and, for a spec with a
    /// basis, that basis's bytes; returns the candidate's .spmlp bytes for the session to judge.
    /// </summary>
    public static byte[] MakeBytes(byte[] originBytes, Dataset data, string recipeJson, string specJson, byte[]? basisBytes, Mlp? teacher)
    {
        ArgumentNullException.ThrowIfNull(originBytes);
        ArgumentNullException.ThrowIfNull(data);
        var recipe = CompressionRecipe.FromJson(recipeJson);
        var spec = CompressionCandidateSpec.FromJson(specJson);
        var origin = SpmlpFormat.FromBytes(originBytes, "the model Compress-Mlp compresses");
        var basis = basisBytes is null ? null : SpmlpFormat.FromBytes(basisBytes, $"the basis of candidate {spec.Describe()}");
        var validation = ValidationOf(data, recipe);
        Mlp? made = null;
        try
        {
            (made, bool completed) = Make(origin, basis, validation, recipe, recipe.Training(teacher), spec, null, CancellationToken.None);
            if (!completed) throw SparsePruneException.Operation("CandidateNotCompleted", $"The candidate {spec.Describe()} did not finish its training.");
            return SpmlpFormat.CanonicalBytes(made);
        }
        finally
        {
            Discard(origin);
            if (basis is not null) Discard(basis);
            if (made is not null) Discard(made);
        }
    }

    private static readonly object SplitGate = new();
    private static (Dataset Data, int Seed, double Fraction, Dataset Split)? _lastSplit;

    /// <summary>A worker makes many candidates of one search: the split is carved once.</summary>
    private static Dataset ValidationOf(Dataset data, CompressionRecipe recipe)
    {
        lock (SplitGate)
        {
            if (_lastSplit is { } s && ReferenceEquals(s.Data, data) && s.Seed == recipe.Seed && s.Fraction == recipe.ValidationFraction) return s.Split;
            var split = recipe.Validation(data);
            _lastSplit = (data, recipe.Seed, recipe.ValidationFraction, split);
            return split;
        }
    }

    /// <summary>
    /// A candidate a worker made, as the session holds it: read from its bytes, with the history
    /// of the model it started from as the session has it (the same records; the file keeps their
    /// times to the tick, but this keeps them as the very objects) and the session state a file
    /// does not carry (the first training's record, which -Rewind replays; the split it trained
    /// on, as a candidate made in the session has it).
    /// </summary>
    internal static Mlp Received(byte[] bytes, Mlp startedFrom, Dataset validation, string source)
    {
        var model = SpmlpFormat.FromBytes(bytes, source);
        int kept = startedFrom.History.Count;
        model.RestoreHistory(startedFrom.History.Concat(model.History.Skip(kept)).ToList());
        if (startedFrom.Attached<TrainingReplay>() is { } replay) model.Attach(replay);
        model.Dataset = validation;
        return model;
    }

    /// <summary>
    /// The candidate without the neurons connection pruning left unread or unfed: fewer operations
    /// always, but a file can grow (the neurons' origins are recorded, and on a small model that
    /// costs more than the biases and positions saved), so for file size only when it shrinks.
    /// </summary>
    private static Mlp WithoutDeadNeurons(Mlp pruned, CompressionObjective objective)
    {
        if (objective != CompressionObjective.FileSize)
        {
            DeadNeurons.Remove(pruned);
            return pruned;
        }
        var trimmed = pruned.Clone();
        if (DeadNeurons.Remove(trimmed).Sum() > 0 && SizeOf(trimmed) < SizeOf(pruned))
        {
            Discard(pruned);
            return trimmed;
        }
        Discard(trimmed);
        return pruned;
    }

    /// <summary>
    /// The bytes of the candidate's file with its history's and baseline's times fixed: the same
    /// candidate sizes the same in every run, so that near ties are not decided by a timestamp's
    /// compressed length (the file written later differs from this by those few bytes). The
    /// baseline's time is the moment the search (or the first step before it) began: a version-3
    /// file compresses it with the rest of its metadata, so without this a quantized candidate's
    /// size moved by up to 27 bytes from run to run on Digits.
    /// </summary>
    internal static long SizeOf(Mlp model)
    {
        var records = model.History.ToList();
        var baseline = model.Baseline;
        try
        {
            model.RestoreHistory(records.Select(r => r with { Time = DateTime.UnixEpoch }));
            if (baseline is not null) model.Baseline = AtEpoch(baseline);
            return SpmlpFormat.CanonicalBytes(model).Length;
        }
        finally
        {
            model.RestoreHistory(records);
            model.Baseline = baseline;
        }
    }

    /// <summary>A copy of <paramref name="baseline"/> at time 0, every other field as it is (through JSON, so that none is forgotten).</summary>
    private static ModelBaseline AtEpoch(ModelBaseline baseline)
    {
        var fields = JsonSerializer.SerializeToNode(baseline)!.AsObject();
        fields[nameof(ModelBaseline.Time)] = JsonValue.Create(DateTime.UnixEpoch);
        return fields.Deserialize<ModelBaseline>()!;
    }

    /// <summary>Frees a copy's tensors now rather than when the GC finds it.</summary>
    internal static void Discard(Mlp copy) => copy.ReplaceLayers(Array.Empty<LayerState>());
}
