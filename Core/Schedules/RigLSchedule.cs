using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// -Schedule RigL: the model is masked at the target sparsity at once (each layer at its ERK or
/// uniform target, keeping its largest weights), then trained for -Epochs while
/// <see cref="RigLHook"/> moves weights (drops the smallest, regrows where the gradient is
/// largest) every -UpdateEvery steps for the first -RampFraction of the steps; at the end the
/// masked weights are deleted, as pruning to the target does, and -FineTuneEpochs may follow.
/// -Schedule Gradual -Regrow runs here too: the targets rise from the model's sparsity on Zhu
/// and Gupta's ramp over the same steps, and every update masks to its target, then regrows.
/// </summary>
internal static class RigLSchedule
{
    public static ScheduleResult Run(Mlp model, PruningRequest request, ScheduleOptions options, Dataset data,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        model.EnsureBaseline(data);
        bool rising = options.Schedule == PruneSchedule.Gradual;
        var training = options.Training with { Epochs = options.Epochs, Operation = rising ? "GradualPrune" : "RigLPrune" };
        int batches = (data.TrainCount + training.BatchSize - 1) / training.BatchSize;
        long total = (long)options.Epochs * batches;
        long end = Math.Max(1, (long)Math.Floor(options.RampFraction * total));
        var layers = Pruner.InScope(model, request);
        var track = new TargetTrack(model, request);
        double initial = track.Start;
        Func<long, double[]> targetsAt = rising
            ? step => Pruner.LayerTargets(model, track.At((s, f) => PruningScheduler.GradualTarget(s, f, step, 0, end)))
            : _ => Pruner.LayerTargets(model, request);
        MaskAtTargets(model, targetsAt(0), layers);
        using var hook = new RigLHook(model, end, options.UpdateEvery, options.RegrowFraction, rising ? targetsAt : null, layers);
        string status = rising
            ? string.Create(CultureInfo.InvariantCulture, $"Gradual pruning from {initial:0.####} to {request.Ratio:0.####} over {end} of {total} steps, regrowing every {options.UpdateEvery}")
            : string.Create(CultureInfo.InvariantCulture, $"RigL at {request.Ratio:0.####}: regrowing every {options.UpdateEvery} steps until step {end} of {total}");
        progress?.Invoke(new WorkProgress(status, 0, 1));
        string moves = string.Create(CultureInfo.InvariantCulture, $"drop and regrow {options.RegrowFraction} of each layer's present weights (cosine decay) every {options.UpdateEvery} steps until step {end} of {total}");
        var note = rising
            ? string.Create(CultureInfo.InvariantCulture, $"{request.Describe()}; target {initial:0.####} -> {request.Ratio:0.####} over steps 1..{end} of {total}, masked at each update, then {moves}")
            : $"{request.Describe()}; masked at the target before training; {moves}";
        var result = Trainer.Train(model, data, training, p => progress?.Invoke(p.Under(status, 0, 1)), cancel, hook, note);
        model.AmendLastNote(string.Create(CultureInfo.InvariantCulture, $"{hook.Updates.Count} regrowth update(s), {hook.Updates.Sum(u => u.Moved.Sum())} weights moved"));
        var reached = rising ? hook.Updates.Select(u => PruningScheduler.GradualTarget(initial, request.Ratio, u.Step, 0, end)).ToArray() : new[] { request.Ratio };
        if (result.Stopped)
            return new ScheduleResult
            {
                Targets = reached, Stopped = true, Metric = result.Metric,
                StopNote = rising ? $"gradual pruning {result.StopNote}; the weights stay masked at the last target reached" : $"RigL training {result.StopNote}; the weights stay masked at the target",
            };
        // A run too short for the end's update still ends at the final target.
        if (rising && !hook.ReachedEnd) MaskAtTargets(model, targetsAt(end), layers);
        // The masked weights read 0 and rank lowest: pruning to the same targets deletes exactly them.
        using (var plan = Pruner.Plan(model, request with { Criterion = PruneCriterion.L1 }, data, cancel))
            Pruner.Apply(model, plan, data);
        if (options.FineTuneEpochs > 0)
        {
            var tuned = Trainer.Train(model, data, options.Training with { Epochs = options.FineTuneEpochs, Operation = "FineTune" },
                p => progress?.Invoke(p.Under("Fine-tuning", 0, 1)), cancel);
            return new ScheduleResult { Targets = reached, Stopped = tuned.Stopped, StopNote = tuned.StopNote, Metric = tuned.Metric };
        }
        var metric = model.History[^1] is { Metric: { } value, MetricName: { } name } ? new MetricResult(name, value) : null;
        return new ScheduleResult { Targets = reached, Metric = metric };
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
            // The largest magnitudes are the lowest negated ones (ties: the lower index).
            var scores = values.abs().flatten().neg();
            if (layer.Deleted is { } deleted) scores = scores.masked_fill(deleted.flatten(), float.PositiveInfinity);
            var keep = Ranking.LowestK(scores, keepCount).to_type(ScalarType.Bool).reshape(layer.Weight.shape);
            layer.SetWeight(values.masked_fill(keep.logical_not(), 0f).DetachFromDisposeScope());
            layer.SetMask(keep.DetachFromDisposeScope(), zeros_like(values).DetachFromDisposeScope());
        }
    }
}
