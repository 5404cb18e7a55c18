using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Pruning schedules. Each ends exactly at the request's <see cref="PruningRequest.Ratio"/>
/// (a target, not an increment), and each runs as one transaction: an error leaves the model as it was.
/// </summary>
public static class PruningScheduler
{
    /// <summary>
    /// Round targets from <paramref name="start"/> to <paramref name="target"/> in <paramref name="steps"/>
    /// rounds: the kept fraction shrinks by the same factor every round (as lottery-ticket
    /// pruning removes a fixed share of what remains), and the last target is exactly <paramref name="target"/>.
    /// </summary>
    public static double[] RoundTargets(double start, double target, int steps)
    {
        var targets = new double[steps];
        double keep0 = 1 - start, keepF = 1 - target;
        for (int r = 1; r <= steps; r++)
            // Intermediate targets are rounded to 1e-6 so that the history shows short numbers.
            targets[r - 1] = r == steps ? target : Math.Max(start, Math.Round(1 - keep0 * Math.Pow(keepF / keep0, (double)r / steps), 6));
        return targets;
    }

    /// <summary>
    /// Zhu and Gupta's gradual target at optimizer step <paramref name="step"/>:
    /// s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³, rising from s_i at t₀ to s_f at t₀ + nΔt, then held.
    /// </summary>
    public static double GradualTarget(double initial, double final, long step, long start, long rampSteps)
    {
        double progress = Math.Clamp((double)(step - start) / rampSteps, 0, 1);
        return progress >= 1 ? final : final + (initial - final) * Math.Pow(1 - progress, 3);
    }

    public static ScheduleResult Run(Mlp model, PruningRequest request, ScheduleOptions options, Dataset? data,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate(request);
        if (options.DataNeededFor(request) is { } purpose && data is null)
            throw SparsePruneException.Argument("NoDataset", $"{purpose} trains or scores on data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        if (data is not null) ModelInputs.CheckCompatible(model, data);
        // The seed of a Random ranking is resolved once, so every round replays the same ranking.
        request = request.WithRandomSeed(model);
        return options.Schedule switch
        {
            PruneSchedule.Gradual when options.Regrow => ModelTransaction.Run(model, () => RigLSchedule.Run(model, request, options, data!, progress, cancel)),
            PruneSchedule.Gradual => ModelTransaction.Run(model, () => Gradual(model, request, options, data!, progress, cancel)),
            PruneSchedule.RigL => ModelTransaction.Run(model, () => RigLSchedule.Run(model, request, options, data!, progress, cancel)),
            PruneSchedule.Iterative or PruneSchedule.LotteryTicket => ModelTransaction.Run(model, () => Rounds(model, request, options, data, progress, cancel)),
            _ => ModelTransaction.Run(model, () => Rounds(model, request, options with { Steps = 1 }, data, progress, cancel)),
        };
    }

    private static TrainingOptions FineTune(ScheduleOptions options) =>
        options.Training with { Epochs = options.FineTuneEpochs, Operation = "FineTune" };

    /// <summary>
    /// The training after each round: fine-tuning, or with learning-rate rewinding the first
    /// training's learning rate, optimizer and schedule, restarted (every round's run starts its
    /// schedule at step 0), for -FineTuneEpochs or as many epochs as that training had.
    /// </summary>
    private static TrainingOptions RoundTraining(Mlp model, ScheduleOptions options)
    {
        if (options.Rewind != RewindMode.LearningRate) return FineTune(options);
        var first = model.Attached<TrainingReplay>()?.Options ?? throw SparsePruneException.Operation("LearningRateScheduleUnknown",
            $"-Rewind LearningRate retrains with the learning-rate schedule of model '{model.Name}''s first training, but this session has no record of it (a model read from a file, or first trained after it was sparsified). Give -FineTuneEpochs with -FineTuneLearningRate and -LearningRateSchedule instead.");
        return options.Training with
        {
            Epochs = options.FineTuneEpochs > 0 ? options.FineTuneEpochs : first.Epochs, Operation = "FineTune",
            LearningRate = first.LearningRate, Optimizer = first.Optimizer, Momentum = first.Momentum, LearningRateSchedule = first.LearningRateSchedule,
        };
    }

    private static ScheduleResult Rounds(Mlp model, PruningRequest request, ScheduleOptions options, Dataset? data,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        bool lottery = options.Schedule == PruneSchedule.LotteryTicket;
        List<(Tensor W, Tensor B)>? rewind = null;
        try
        {
            // The rewind point is found before anything changes (its replay trains a fresh copy).
            if (lottery) rewind = RewindPoint(model, options.RewindEpoch, cancel);
            var retraining = RoundTraining(model, options);
            var track = new TargetTrack(model, request);
            var rounds = Enumerable.Range(0, options.Steps).Select(r => track.At((s, f) => RoundTargets(s, f, options.Steps)[r])).ToArray();
            var targets = rounds.Select(r => r.Ratio).ToArray();
            MetricResult? metric = null;
            string? capNote = null;
            for (int r = 0; r < targets.Length; r++)
            {
                string status = string.Create(CultureInfo.InvariantCulture, $"Round {r + 1}/{targets.Length}: pruning to {targets[r]:0.####}");
                progress?.Invoke(new WorkProgress(status, r, targets.Length));
                var roundRequest = rounds[r];
                PruningPlan plan;
                try { plan = Pruner.Plan(model, roundRequest, data, cancel); }
                catch (OperationCanceledException) when (r > 0)
                {
                    // Stopped while scoring: planning changes nothing, so the finished rounds stay.
                    var note = $"stopped before round {r + 1} of {targets.Length}";
                    model.Record("Stop", options.Describe(), model.Counts, metric, note);
                    return new ScheduleResult { Targets = targets.Take(r).ToArray(), Stopped = true, StopNote = note, Metric = metric, CapNote = capNote };
                }
                using (plan)
                {
                    Pruner.Apply(model, plan, data);
                    capNote = Pruner.CapNote(plan);
                }
                if (lottery)
                {
                    Rewind(model, rewind!);
                    metric = data is null ? null : Evaluator.Evaluate(model, data);
                    model.Record("Rewind", new HistorySettings().Add("To", options.RewindEpoch == 0 ? "Initialization" : $"Epoch{options.RewindEpoch}"), model.Counts, metric,
                        $"survivors set to their values at {(options.RewindEpoch == 0 ? "initialization" : $"the end of epoch {options.RewindEpoch} of the first training")}");
                }
                if (retraining.Epochs > 0)
                {
                    var result = Trainer.Train(model, data!, retraining,
                        p => progress?.Invoke(p.Under(status, r, targets.Length)), cancel);
                    metric = result.Metric;
                    if (result.Stopped)
                        return new ScheduleResult { Targets = targets.Take(r + 1).ToArray(), Stopped = true, StopNote = $"round {r + 1} of {targets.Length}: fine-tuning {result.StopNote}", Metric = metric, CapNote = capNote };
                }
                // The prune step already recorded its metric: no second evaluation.
                else if (!lottery && model.History[^1] is { Metric: { } value, MetricName: { } name }) metric = new MetricResult(name, value);
                if (cancel.IsCancellationRequested && r + 1 < targets.Length)
                {
                    var note = $"stopped after round {r + 1} of {targets.Length}";
                    model.Record("Stop", options.Describe(), model.Counts, metric, note);
                    return new ScheduleResult { Targets = targets.Take(r + 1).ToArray(), Stopped = true, StopNote = note, Metric = metric, CapNote = capNote };
                }
            }
            return new ScheduleResult { Targets = targets, Metric = metric, CapNote = capNote };
        }
        finally
        {
            if (rewind is not null) foreach (var (w, b) in rewind) { w.Dispose(); b.Dispose(); }
        }
    }

    /// <summary>
    /// The values of every parameter at the rewind point, at the model's original widths:
    /// initialization (drawn again from the model's seed), or the end of epoch
    /// <paramref name="epoch"/> of the first training, found by running that training again
    /// from initialization (the same seeds and thread count give the same bits).
    /// </summary>
    private static List<(Tensor W, Tensor B)> RewindPoint(Mlp model, int epoch, CancellationToken cancel)
    {
        if (epoch == 0) return InitialWeights.Of(model);
        var replay = model.Attached<TrainingReplay>() ?? throw SparsePruneException.Operation("RewindPointUnknown",
            $"-RewindEpoch {epoch} rewinds to the weights after epoch {epoch} of the model's first training, but model '{model.Name}' has no record of it in this session (a model read from a file, or first trained after it was sparsified). Use -RewindEpoch 0 (initialization).");
        if (epoch > replay.Options.Epochs)
            throw SparsePruneException.Argument("InvalidRewindEpoch", $"-RewindEpoch {epoch} is past the first training of model '{model.Name}', which ran {replay.Options.Epochs} epoch(s).");
        var fresh = Mlp.Create(model.OriginalWidths, model.Activation, model.Task, model.Seed);
        try
        {
            // A replay stopped part-way gives no rewind point: nothing of the schedule can be kept.
            if (Trainer.Train(fresh, replay.Data, replay.Options with { StopAfterEpochs = epoch }, cancel: cancel).Stopped)
                throw new OperationCanceledException(cancel);
            return fresh.State.Select(l => (l.Weight.clone().DetachFromDisposeScope(), l.Bias.clone().DetachFromDisposeScope())).ToList();
        }
        finally
        {
            fresh.ReplaceLayers(Array.Empty<LayerState>());
        }
    }

    /// <summary>Sets every surviving weight (masked ones behind their mask) and every bias to its rewind value.</summary>
    private static void Rewind(Mlp model, List<(Tensor W, Tensor B)> original)
    {
        var copies = original.Select(p => (p.W.clone(), p.B.clone())).ToList();
        var values = NeuronOrigins.SelectPresent(model, copies);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var layer = model.State[i];
            using var scope = NewDisposeScope();
            var (w, b) = values[i];
            var present = layer.Deleted is { } d ? w.masked_fill(d, 0f) : w;
            if (layer.Keep is { } mask)
                layer.SetMask(mask, present.masked_fill(mask, 0f).DetachFromDisposeScope());
            layer.SetWeight((layer.Keep is { } m ? present.masked_fill(m.logical_not(), 0f) : present.clone()).DetachFromDisposeScope());
            layer.SetBias(b.clone().DetachFromDisposeScope());
            w.Dispose();
            b.Dispose();
        }
    }

    private static ScheduleResult Gradual(Mlp model, PruningRequest request, ScheduleOptions options, Dataset data,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        model.EnsureBaseline(data);
        var training = options.Training with { Epochs = options.Epochs, Operation = "GradualPrune" };
        int batches = (data.TrainCount + training.BatchSize - 1) / training.BatchSize;
        long total = (long)options.Epochs * batches;
        long ramp = Math.Max(1, (long)Math.Floor(options.RampFraction * total));
        var track = new TargetTrack(model, request);
        double initial = track.Start;
        var hook = new GradualHook(model, track, ramp, options.UpdateEvery);
        TrainingResult result;
        try
        {
            string status = string.Create(CultureInfo.InvariantCulture, $"Gradual pruning from {initial:0.####} to {request.Ratio:0.####} over {ramp} of {total} steps");
            progress?.Invoke(new WorkProgress(status, 0, 1));
            var note = string.Create(CultureInfo.InvariantCulture,
                $"{request.Describe()}; target {initial:0.####} -> {request.Ratio:0.####} over steps 1..{ramp} of {total}, updated every {options.UpdateEvery}");
            result = Trainer.Train(model, data, training, p => progress?.Invoke(p.Under(status, 0, 1)), cancel, hook, note);
            // A run stopped early keeps the targets it reached; otherwise the last update was at the ramp's end.
            if (!result.Stopped && !hook.ReachedFinal)
                hook.PruneTo(ramp);
            hook.RemoveMaskedNeurons();
            var sparsities = Pruner.LayerSparsityNote(model, request);
            if (sparsities is not null && model.History.Count > 0)
                model.AmendLastNote(sparsities);
            if (hook.CapNote is { } capped && model.History.Count > 0)
                model.AmendLastNote(capped);
        }
        finally
        {
            hook.Dispose();
        }
        if (result.Stopped)
            return new ScheduleResult { Targets = hook.Targets, Stopped = true, StopNote = $"gradual pruning {result.StopNote}", Metric = result.Metric, CapNote = hook.CapNote };
        if (options.FineTuneEpochs > 0)
        {
            var tuned = Trainer.Train(model, data, FineTune(options), p => progress?.Invoke(p.Under("Fine-tuning", 0, 1)), cancel);
            return new ScheduleResult { Targets = hook.Targets, Stopped = tuned.Stopped, StopNote = tuned.StopNote, Metric = tuned.Metric, CapNote = hook.CapNote };
        }
        return new ScheduleResult { Targets = hook.Targets, Metric = result.Metric, CapNote = hook.CapNote };
    }
}
