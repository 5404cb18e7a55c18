using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// -Schedule RigL: the model is masked at the target sparsity at once (each layer at its ERK or
/// uniform target, keeping its largest weights), then trained for -Epochs while
/// <see cref="RigLHook"/> moves weights (drops the smallest, regrows where the gradient is
/// largest) every -UpdateEvery steps for the first -RampFraction of the steps; at the end the
/// masked weights are deleted, as pruning to the target does, and -FineTuneEpochs may follow.
/// </summary>
internal static class RigLSchedule
{
    public static ScheduleResult Run(Mlp model, PruningRequest request, ScheduleOptions options, Dataset data,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        model.EnsureBaseline(data);
        var targets = Pruner.LayerTargets(model, request);
        var layers = Pruner.InScope(model, request);
        MaskAtTargets(model, targets, layers);
        var training = options.Training with { Epochs = options.Epochs, Operation = "RigLPrune" };
        int batches = (data.TrainCount + training.BatchSize - 1) / training.BatchSize;
        long total = (long)options.Epochs * batches;
        long end = Math.Max(1, (long)Math.Floor(options.RampFraction * total));
        using var hook = new RigLHook(model, end, options.UpdateEvery, options.RegrowFraction);
        string status = string.Create(CultureInfo.InvariantCulture, $"RigL at {request.Ratio:0.####}: regrowing every {options.UpdateEvery} steps until step {end} of {total}");
        progress?.Invoke(new WorkProgress(status, 0, 1));
        var note = string.Create(CultureInfo.InvariantCulture,
            $"{request.Describe()}; masked at the target before training; drop and regrow {options.RegrowFraction} of each layer's present weights (cosine decay) every {options.UpdateEvery} steps until step {end} of {total}");
        var result = Trainer.Train(model, data, training, p => progress?.Invoke(p.Under(status, 0, 1)), cancel, hook, note);
        model.AmendLastNote(string.Create(CultureInfo.InvariantCulture, $"{hook.Updates.Count} regrowth update(s), {hook.Updates.Sum(u => u.Moved.Sum())} weights moved"));
        if (result.Stopped)
            return new ScheduleResult { Targets = new[] { request.Ratio }, Stopped = true, StopNote = $"RigL training {result.StopNote}; the weights stay masked at the target", Metric = result.Metric };
        // The masked weights read 0 and rank lowest: pruning to the same targets deletes exactly them.
        using (var plan = Pruner.Plan(model, request with { Criterion = PruneCriterion.L1 }, data, cancel))
            Pruner.Apply(model, plan, data);
        if (options.FineTuneEpochs > 0)
        {
            var tuned = Trainer.Train(model, data, options.Training with { Epochs = options.FineTuneEpochs, Operation = "FineTune" },
                p => progress?.Invoke(p.Under("Fine-tuning", 0, 1)), cancel);
            return new ScheduleResult { Targets = new[] { request.Ratio }, Stopped = tuned.Stopped, StopNote = tuned.StopNote, Metric = tuned.Metric };
        }
        var metric = model.History[^1] is { Metric: { } value, MetricName: { } name } ? new MetricResult(name, value) : null;
        return new ScheduleResult { Targets = new[] { request.Ratio }, Metric = metric };
    }

    /// <summary>
    /// Masks each layer in scope to its target (the fraction of its baseline weights gone, deleted
    /// or masked), keeping its largest weights by magnitude (values behind masks count too).
    /// </summary>
    internal static void MaskAtTargets(Mlp model, double[] targets, int[] layers)
    {
        var baseline = PrunableStructure.BaselineWeights(model);
        foreach (int l in layers)
        {
            var layer = model.State[l];
            using var scope = NewDisposeScope();
            long keepCount = layer.PresentWeights - Math.Max(0, Ranking.FloorCount(targets[l], baseline[l]) - (baseline[l] - layer.PresentWeights));
            var values = layer.Underlying();
            var scores = values.abs().flatten();
            if (layer.Deleted is { } deleted) scores = scores.masked_fill(deleted.flatten(), float.NegativeInfinity);
            var kept = scores.sort(0, descending: true, stable: true).Indices.narrow(0, 0, keepCount);
            var keep = zeros(scores.shape[0], dtype: ScalarType.Bool).index_fill_(0, kept, true).reshape(layer.Weight.shape);
            layer.SetWeight(values.masked_fill(keep.logical_not(), 0f).DetachFromDisposeScope());
            layer.SetMask(keep.DetachFromDisposeScope(), zeros_like(values).DetachFromDisposeScope());
        }
    }
}
