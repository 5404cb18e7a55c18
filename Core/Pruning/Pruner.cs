using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Invoke-Pruning's one step: checks a request, scores with its <see cref="ImportanceCriterion"/>,
/// lets its <see cref="PrunableStructure"/> plan the deletions, and applies a plan as one
/// transaction. Targets count against the baseline and include earlier deletions; zeros rank
/// lowest, so masked weights go first.
/// </summary>
public static class Pruner
{
    /// <summary>Plans one pruning step; criteria scored from gradients pass over <paramref name="data"/>'s training split.</summary>
    public static PruningPlan Plan(Mlp model, PruningRequest request, Dataset? data = null, CancellationToken cancel = default) =>
        Plan(model, request, data, null, null, cancel);

    /// <summary>
    /// <paramref name="importance"/>: scores computed already (a gradient criterion that observed
    /// a training run or a validation split), else the request's criterion is created here.
    /// <paramref name="masked"/>: neuron pruning inside training masks instead of removing.
    /// </summary>
    internal static PruningPlan Plan(Mlp model, PruningRequest request, Dataset? data, ImportanceCriterion? importance,
        MaskedNeurons? masked, CancellationToken cancel = default)
    {
        Validate(model, request);
        QuantizationGuard.RefuseIfQuantized(model, "Invoke-Pruning");
        if (importance is null && ImportanceCriterion.ScoresFromData(request.Criterion) && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-Criterion {request.Criterion} scores weights from gradients on data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        // A random ranking's seed is resolved now so that the history can replay it.
        request = request.WithRandomSeed(model);
        ImportanceCriterion? own = null;
        if (importance is null)
        {
            importance = own = ImportanceCriterion.Create(request.Criterion, request.Seed ?? 0);
            if (own is GradientCriterion gradients) gradients.ObserveData(model, data!, request.ScoringBatchSize, cancel);
        }
        try
        {
            // ERK scope: the overall target spread over the layers by their shapes, then per layer.
            var effective = request.Scope == PruneScope.ERK ? request with { Scope = PruneScope.Layer, LayerRatios = ErkRatios(model, request) } : request;
            var plan = request.StructureImpl.Plan(model, effective, InScope(model, request), importance, masked);
            plan.Request = request;
            return plan;
        }
        finally
        {
            own?.Dispose();
        }
    }

    /// <summary>
    /// Each layer's target (the fraction of its baseline weights deleted) a connection request
    /// ends at: under ERK allocation, or the request's ratio for the layers in scope; a layer out
    /// of scope keeps what it has.
    /// </summary>
    internal static double[] LayerTargets(Mlp model, PruningRequest request) => request.Scope == PruneScope.ERK
        ? ErkRatios(model, request)
        : Enumerable.Range(0, model.LayerCount).Select(l => InScope(model, request).Contains(l) ? request.Ratio : Math.Min(request.StructureImpl.CurrentLayerRatio(model, l), 0.999999)).ToArray();

    /// <summary>Each layer's target under ERK allocation of the request's ratio, from the layers' baseline shapes.</summary>
    private static double[] ErkRatios(Mlp model, PruningRequest request)
    {
        var widths = model.OriginalWidths;
        var structure = request.StructureImpl;
        var inScope = InScope(model, request);
        var shapes = inScope.Select(l => (widths[l], widths[l + 1])).ToList();
        var ratios = ErkAllocation.Erk(shapes, request.Ratio);
        var all = Enumerable.Range(0, model.LayerCount).Select(l => Math.Min(structure.CurrentLayerRatio(model, l), 0.999999)).ToArray();
        for (int i = 0; i < inScope.Length; i++) all[inScope[i]] = ratios[i];
        return all;
    }

    /// <summary>The layers a request covers, in index order.</summary>
    internal static int[] InScope(Mlp model, PruningRequest request)
    {
        int count = request.StructureImpl.PrunableLayers(model);
        return request.Layers?.Where(l => l < count).OrderBy(l => l).ToArray() ?? Enumerable.Range(0, count).ToArray();
    }

    /// <summary>
    /// The fraction of the scope's baseline (weights, or hidden neurons for Neuron) already deleted:
    /// where a pruning schedule starts.
    /// </summary>
    public static double CurrentRatio(Mlp model, PruningRequest request) =>
        request.StructureImpl.CurrentRatio(model, InScope(model, request));

    /// <summary>The fraction of one layer's baseline weights (Neuron: neurons) already deleted.</summary>
    public static double CurrentLayerRatio(Mlp model, PruningRequest request, int layer) =>
        request.StructureImpl.CurrentLayerRatio(model, layer);

    /// <summary>Checks a request against the model without planning it.</summary>
    public static void Check(Mlp model, PruningRequest request) => Validate(model, request);

    private static void Validate(Mlp model, PruningRequest request)
    {
        var structure = request.StructureImpl;
        if (structure.HasRatio && !(request.Ratio >= 0 && request.Ratio < 1))
            throw SparsePruneException.Argument("InvalidRatio",
                $"-Ratio must be at least 0 and below 1 (0.3 deletes 30 % of the baseline); got {request.Ratio.ToString(CultureInfo.InvariantCulture)}. A model needs some weights left.");
        structure.Validate(model, request);
        if (request.MaxLayerSparsity is { } cap && !(cap > 0 && cap <= 1))
            throw SparsePruneException.Argument("InvalidMaxLayerSparsity", $"-MaxLayerSparsity must be above 0 and at most 1 (0.98 lets global ranking delete up to 98 % of any one layer; 1 sets no cap); got {cap.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Scope == PruneScope.ERK && request.Structure != PruneStructure.Connection)
            throw SparsePruneException.Argument("ScopeNotApplicable", $"-Scope ERK spreads connections over the layers by their shapes: use it with -Structure Connection (Neuron and NM rank within each layer or globally).");
        if (request.Scope == PruneScope.ERK && request.LayerRatios is not null)
            throw SparsePruneException.Argument("ParameterNotApplicable", "-Scope ERK computes a target per layer itself: give -Ratio, or -Scope Layer with a target per layer.");
        int count = structure.PrunableLayers(model);
        string hidden = structure.Unit == "neurons" ? "hidden " : "";
        if (request.LayerRatios is { } ratios)
        {
            if (request.Scope != PruneScope.Layer || !structure.HasRatio)
                throw SparsePruneException.Argument("ParameterNotApplicable", "A target per layer applies to -Scope Layer with -Structure Connection or Neuron.");
            if (ratios.Length != count)
                throw SparsePruneException.Argument("InvalidRatio", $"Give one target per {hidden}layer: {count}, not {ratios.Length}.");
            if (ratios.Any(r => !(r >= 0 && r < 1)))
                throw SparsePruneException.Argument("InvalidRatio", $"Every layer's target must be at least 0 and below 1; got {string.Join(",", ratios.Select(r => r.ToString(CultureInfo.InvariantCulture)))}.");
        }
        if (request.ScoringBatchSize < 1)
            throw SparsePruneException.Argument("InvalidBatchSize", $"-BatchSize must be at least 1; got {request.ScoringBatchSize}.");
        if (request.Layers is { } layers)
        {
            if (layers.Length == 0) throw SparsePruneException.Argument("LayerOutOfRange", "-Layer names no layer.");
            foreach (var l in layers)
                if (l < 0 || l >= count)
                    throw SparsePruneException.Argument("LayerOutOfRange", hidden.Length > 0
                        ? $"Layer {l} has no prunable neurons; the hidden layers of this model are 0..{count - 1} (output neurons are never pruned)."
                        : $"Layer {l} does not exist; this model has layers 0..{count - 1}.");
            if (layers.Distinct().Count() != layers.Length)
                throw SparsePruneException.Argument("DuplicateLayer", $"-Layer lists a layer twice: {string.Join(",", layers)}.");
        }
    }

    /// <summary>Applies the plan, then fine-tunes when asked; all of it or nothing.</summary>
    public static TrainingResult? Apply(Mlp model, PruningPlan plan, Dataset? data, int fineTuneEpochs = 0,
        TrainingOptions? fineTune = null, Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        if (fineTuneEpochs > 0 && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-FineTuneEpochs needs data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        if (fineTuneEpochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {fineTuneEpochs}.");
        if (data is not null) ModelInputs.CheckCompatible(model, data);
        var before = model.Counts;
        return ModelTransaction.Run(model, () =>
        {
            model.EnsureBaseline(data);
            ApplyToLayers(model, plan);
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            var notes = new[] { plan.TargetMet ? "target already met: nothing deleted" : LayerSparsityNote(model, plan.Request), CapNote(plan) };
            var note = string.Join("; ", notes.Where(n => !string.IsNullOrEmpty(n)));
            model.Record("Prune", plan.Request.Describe(), before, metric, note.Length == 0 ? null : note);
            if (fineTuneEpochs == 0) return null;
            var options = (fineTune ?? new TrainingOptions()) with { Epochs = fineTuneEpochs, Operation = "FineTune" };
            return Trainer.Train(model, data!, options, progress, cancel);
        });
    }

    /// <summary>Applies a plan to the layers: no baseline, metric or history (schedules record their own).</summary>
    internal static void ApplyToLayers(Mlp model, PruningPlan plan)
    {
        DeleteConnections(model, plan);
        // In layer order: a layer's rows are judged after the columns removed with the layer before.
        foreach (var group in plan.RemovedNeurons.OrderBy(g => g.Layer)) group.Remove(model);
    }

    /// <summary>
    /// What -MaxLayerSparsity did to a global plan, for the history and the cmdlet's warning;
    /// null when it held no layer back.
    /// </summary>
    public static string? CapNote(PruningPlan plan)
    {
        if (plan.CappedLayers.Count == 0) return null;
        var request = plan.Request;
        var cap = request.EffectiveMaxLayerSparsity.ToString(CultureInfo.InvariantCulture);
        var layers = string.Join(", ", plan.CappedLayers);
        return $"-MaxLayerSparsity {cap} held layer(s) {layers} at the cap where global ranking would have taken more"
            + (plan.CapHoldsEveryLayer ? "; every layer pruned is at the cap, so the allocation is uniform rather than global" : "")
            + (request.MaxLayerSparsity is null ? " (the default cap; -MaxLayerSparsity 1 sets none)" : "");
    }

    /// <summary>
    /// What global ranking chose, for the history: each layer's share of its baseline now deleted
    /// (neurons for Neuron) and, for connections, its overall sparsity. Null for layer scope.
    /// </summary>
    internal static string? LayerSparsityNote(Mlp model, PruningRequest request)
    {
        if (request.Scope == PruneScope.Layer || request.Structure == PruneStructure.NM) return null;
        var baseW = PrunableStructure.BaselineWeights(model);
        var baseN = PrunableStructure.BaselineNeurons(model);
        var parts = model.State.Select((l, i) => request.Structure == PruneStructure.Neuron
            ? (i < model.LayerCount - 1 ? string.Create(CultureInfo.InvariantCulture, $"{i}: {l.OutFeatures}/{baseN[i]} neurons") : null)
            : string.Create(CultureInfo.InvariantCulture, $"{i}: {1.0 - (double)l.NonZeroWeights / baseW[i]:0.####}"))
            .Where(p => p is not null);
        var chooser = request.Scope == PruneScope.ERK ? "ERK allocation" : "global ranking";
        return (request.Structure == PruneStructure.Neuron ? $"layers chosen by {chooser}: " : $"layer sparsities chosen by {chooser}: ") + string.Join(", ", parts);
    }

    private static void DeleteConnections(Mlp model, PruningPlan plan)
    {
        foreach (var (index, chosen) in plan.Connections)
        {
            var layer = model.State[index];
            using var scope = NewDisposeScope();
            var deleted = layer.Deleted is null ? chosen.clone() : layer.Deleted.logical_or(chosen);
            layer.SetWeight(layer.Weight.masked_fill(chosen, 0f).DetachFromDisposeScope());
            if (layer.Keep is { } keep)
            {
                var newKeep = keep.masked_fill(chosen, true);
                var maskedValues = layer.MaskedValues!.masked_fill(chosen, 0f);
                if (newKeep.all().item<bool>()) layer.SetMask(null, null);
                else layer.SetMask(newKeep.DetachFromDisposeScope(), maskedValues.DetachFromDisposeScope());
            }
            layer.SetDeleted(deleted.DetachFromDisposeScope());
        }
    }
}
