using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>What Invoke-Pruning is asked to do.</summary>
public sealed record PruningRequest
{
    /// <summary>Target fraction of the scope's baseline weights (Connection) or hidden neurons (Neuron) deleted.</summary>
    public double Ratio { get; init; }
    public PruneStructure Structure { get; init; } = PruneStructure.Connection;
    public PruneCriterion Criterion { get; init; } = PruneCriterion.L1;
    public PruneScope Scope { get; init; } = PruneScope.Layer;
    /// <summary>NM: keep <see cref="KeepN"/> of every <see cref="GroupM"/> consecutive weights of a row.</summary>
    public int KeepN { get; init; } = 2;
    public int GroupM { get; init; } = 4;
    public int? Seed { get; init; }

    public string Describe() => (Structure == PruneStructure.NM
        ? $"Structure=NM Pattern={KeepN}:{GroupM} Criterion={Criterion}"
        : string.Create(CultureInfo.InvariantCulture, $"Structure={Structure} Ratio={Ratio} Criterion={Criterion} Scope={Scope}"))
        + (Criterion == PruneCriterion.Random && Seed is { } s ? $" Seed={s}" : "");
}

/// <summary>A computed but not yet applied pruning step: what -WhatIf shows.</summary>
public sealed class PruningPlan : IDisposable
{
    internal PruningPlan(PruningRequest request, List<LayerChange> changes)
    {
        Request = request;
        Changes = changes;
    }

    public PruningRequest Request { get; }
    public IReadOnlyList<LayerChange> Changes { get; }
    /// <summary>Connections this step deletes directly (Connection, NM) or with removed neurons.</summary>
    public long Deleting => Changes.Sum(c => c.Deleting);
    public long NeuronsRemoving => Changes.Sum(c => (long)(c.NeuronsBefore - c.NeuronsAfter));
    /// <summary>True when the target was already met and the step deletes nothing.</summary>
    public bool TargetMet => Deleting == 0 && NeuronsRemoving == 0;
    internal Dictionary<int, Tensor> Connections { get; } = new();
    internal Dictionary<int, long[]> KeepNeurons { get; } = new();
    public void Dispose() { foreach (var t in Connections.Values) t.Dispose(); }
}

/// <summary>
/// Invoke-Pruning: deletes connections (stored sparse afterwards), whole hidden neurons (the
/// layers shrink) or all but N of every M weights. Targets count against the baseline and
/// include earlier deletions; zeros rank lowest, so masked weights go first.
/// </summary>
public static class Pruner
{
    public static PruningPlan Plan(Mlp model, PruningRequest request)
    {
        Validate(model, request);
        // A random ranking's seed is resolved now so that the history can replay it.
        if (request.Criterion == PruneCriterion.Random && request.Seed is null) request = request with { Seed = model.NextSeed() };
        return request.Structure switch
        {
            PruneStructure.Connection => PlanConnections(model, request),
            PruneStructure.Neuron => PlanNeurons(model, request),
            _ => PlanNM(model, request),
        };
    }

    private static void Validate(Mlp model, PruningRequest request)
    {
        if (request.Structure != PruneStructure.NM && !(request.Ratio >= 0 && request.Ratio < 1))
            throw SparsePruneException.Argument("InvalidRatio",
                $"-Ratio must be at least 0 and below 1 (0.3 deletes 30 % of the baseline); got {request.Ratio.ToString(CultureInfo.InvariantCulture)}. A model needs some weights left.");
        if (request.Structure == PruneStructure.NM && !(request.KeepN >= 1 && request.GroupM > request.KeepN && request.GroupM <= 1024))
            throw SparsePruneException.Argument("InvalidNMPattern", $"An N:M pattern needs 1 <= N < M <= 1024; got {request.KeepN}:{request.GroupM}.");
        if (request.Structure == PruneStructure.Neuron && model.LayerCount < 2)
            throw SparsePruneException.Operation("NoHiddenNeurons", $"Model '{model.Name}' has no hidden layer, so it has no neuron to prune: output neurons are never pruned.");
    }

    private static long[] BaselineWeights(Mlp model) =>
        model.Baseline?.LayerWeights ?? model.State.Select(l => l.DenseWeights).ToArray();

    private static int[] BaselineNeurons(Mlp model) =>
        model.Baseline?.LayerNeurons ?? model.State.Select(l => l.OutFeatures).ToArray();

    private static Tensor ConnectionScores(LayerState layer, PruningRequest request, Random rng)
    {
        var s = request.Criterion == PruneCriterion.Random ? Ranking.RandomScores(layer.Weight.shape, rng) : layer.Weight.abs();
        return layer.Deleted is { } d ? s.masked_fill(d, float.PositiveInfinity) : s;
    }

    private static PruningPlan PlanConnections(Mlp model, PruningRequest request)
    {
        var state = model.State;
        var baseline = BaselineWeights(model);
        var rng = new Random(request.Seed ?? 0);
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var scores = state.Select(l => ConnectionScores(l, request, rng)).ToList();
        var present = state.Select(l => l.PresentWeights).ToArray();
        var chosen = new List<Tensor>();
        if (request.Scope == PruneScope.Global)
        {
            long gone = baseline.Sum() - present.Sum();
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseline.Sum()) - gone);
            var flat = Ranking.LowestK(cat(scores.Select(s => s.reshape(-1)).ToList(), 0), add);
            chosen = Ranking.Split(flat, scores.Select(s => s.shape).ToList());
        }
        else
        {
            for (int i = 0; i < state.Count; i++)
            {
                long gone = baseline[i] - present[i];
                long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseline[i]) - gone);
                chosen.Add(Ranking.LowestK(scores[i], add));
            }
        }
        FillConnectionChanges(model, plan, chosen);
        return plan;
    }

    private static void FillConnectionChanges(Mlp model, PruningPlan plan, List<Tensor> chosen)
    {
        var changes = (List<LayerChange>)plan.Changes;
        for (int i = 0; i < model.State.Count; i++)
        {
            var layer = model.State[i];
            long deleting = chosen[i].count_nonzero().item<long>();
            if (deleting > 0) plan.Connections[i] = chosen[i].to_type(ScalarType.Bool).DetachFromDisposeScope();
            long present = layer.PresentWeights, zero = present - layer.NonZeroWeights;
            long zeroChosen = deleting == 0 ? 0 : (layer.Weight.eq(0f).to_type(ScalarType.Float32) * chosen[i]).sum().item<float>() is var z ? (long)z : 0;
            changes.Add(new LayerChange
            {
                Layer = i, Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = present,
                ZeroBefore = zero, ZeroAfter = zero - zeroChosen, Deleting = deleting,
                NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures,
            });
        }
    }

    private static PruningPlan PlanNM(Mlp model, PruningRequest request)
    {
        var rng = new Random(request.Seed ?? 0);
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var chosen = new List<Tensor>();
        int m = request.GroupM, keep = request.KeepN;
        foreach (var layer in model.State)
        {
            // Connections deleted earlier rank lowest here: they count among the M - N dropped
            // of their group, so a pattern already met deletes nothing more.
            var scores = request.Criterion == PruneCriterion.Random ? Ranking.RandomScores(layer.Weight.shape, rng) : layer.Weight.abs();
            if (layer.Deleted is { } gone) scores = scores.masked_fill(gone, float.NegativeInfinity);
            long rows = scores.shape[0], cols = scores.shape[1];
            long padded = (cols + m - 1) / m * m;
            // Padding ranks lowest, so a short last group of g weights keeps min(g, N) of them.
            var p = padded == cols ? scores : cat(new[] { scores, full(rows, padded - cols, float.NegativeInfinity) }, 1);
            var groups = p.reshape(rows, padded / m, m);
            var (_, order) = groups.sort(dim: 2, descending: false, stable: true);
            var lowest = order.narrow(2, 0, m - keep);
            var drop = zeros_like(groups).scatter_(2, lowest, ones(lowest.shape, ScalarType.Float32));
            var chosenLayer = drop.reshape(rows, padded).narrow(1, 0, cols);
            // Connections already deleted are not deleted twice.
            if (layer.Deleted is { } d) chosenLayer = chosenLayer.masked_fill(d, 0f);
            chosen.Add(chosenLayer.contiguous());
        }
        FillConnectionChanges(model, plan, chosen);
        return plan;
    }

    private static PruningPlan PlanNeurons(Mlp model, PruningRequest request)
    {
        var state = model.State;
        var baseline = BaselineNeurons(model);
        var rng = new Random(request.Seed ?? 0);
        int hiddenLayers = state.Count - 1;
        var importance = new List<double[]>();
        using (NewDisposeScope())
        {
            for (int l = 0; l < hiddenLayers; l++)
            {
                var w = state[l].Weight;
                double[] values = request.Criterion switch
                {
                    PruneCriterion.L1 => w.abs().sum(1).to_type(ScalarType.Float64).data<double>().ToArray(),
                    PruneCriterion.L2 => w.pow(2).sum(1).sqrt().to_type(ScalarType.Float64).data<double>().ToArray(),
                    _ => Enumerable.Range(0, state[l].OutFeatures).Select(_ => rng.NextDouble()).ToArray(),
                };
                importance.Add(values);
            }
        }

        var remove = Enumerable.Range(0, hiddenLayers).Select(_ => new List<int>()).ToList();
        if (request.Scope == PruneScope.Global)
        {
            long baseTotal = baseline.Take(hiddenLayers).Sum(n => (long)n);
            long now = state.Take(hiddenLayers).Sum(l => (long)l.OutFeatures);
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseTotal) - (baseTotal - now));
            var candidates = Enumerable.Range(0, hiddenLayers)
                .SelectMany(l => importance[l].Select((v, i) => (Layer: l, Index: i, Score: v)))
                .OrderBy(c => c.Score); // stable: ties stay in (layer, index) order
            var left = state.Take(hiddenLayers).Select(l => l.OutFeatures).ToArray();
            foreach (var c in candidates)
            {
                if (add == 0) break;
                if (left[c.Layer] <= 1) continue; // every layer keeps at least one neuron
                remove[c.Layer].Add(c.Index);
                left[c.Layer]--;
                add--;
            }
        }
        else
        {
            for (int l = 0; l < hiddenLayers; l++)
            {
                int now = state[l].OutFeatures;
                long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseline[l]) - (baseline[l] - now));
                add = Math.Min(add, now - 1);
                remove[l].AddRange(importance[l].Select((v, i) => (v, i)).OrderBy(p => p.v).Take((int)add).Select(p => p.i));
            }
        }

        var plan = new PruningPlan(request, new List<LayerChange>());
        var changes = (List<LayerChange>)plan.Changes;
        for (int l = 0; l < state.Count; l++)
        {
            var layer = state[l];
            var removedRows = l < hiddenLayers ? remove[l].ToHashSet() : new HashSet<int>();
            var removedCols = l > 0 ? remove[l - 1].ToHashSet() : new HashSet<int>();
            if (l < hiddenLayers && removedRows.Count > 0)
                plan.KeepNeurons[l] = Enumerable.Range(0, layer.OutFeatures).Where(i => !removedRows.Contains(i)).Select(i => (long)i).ToArray();
            long deleting = PresentIn(layer, removedRows, removedCols);
            changes.Add(new LayerChange
            {
                Layer = l, Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = layer.PresentWeights,
                ZeroBefore = layer.PresentWeights - layer.NonZeroWeights, ZeroAfter = layer.PresentWeights - layer.NonZeroWeights, Deleting = deleting,
                NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures - removedRows.Count,
            });
        }
        return plan;
    }

    /// <summary>Present (not yet deleted) weights in the given rows or columns of a layer.</summary>
    private static long PresentIn(LayerState layer, HashSet<int> rows, HashSet<int> cols)
    {
        if (rows.Count == 0 && cols.Count == 0) return 0;
        using var scope = NewDisposeScope();
        var hit = zeros(layer.Weight.shape, ScalarType.Bool);
        if (rows.Count > 0) hit.index_fill_(0, tensor(rows.Select(i => (long)i).ToArray()), true);
        if (cols.Count > 0) hit.index_fill_(1, tensor(cols.Select(i => (long)i).ToArray()), true);
        if (layer.Deleted is { } d) hit = hit.logical_and(d.logical_not());
        return hit.count_nonzero().item<long>();
    }

    /// <summary>Applies the plan, then fine-tunes when asked; all of it or nothing.</summary>
    public static TrainingResult? Apply(Mlp model, PruningPlan plan, Dataset? data, int fineTuneEpochs = 0,
        TrainingOptions? fineTune = null, Action<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (fineTuneEpochs > 0 && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-FineTuneEpochs needs data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        if (fineTuneEpochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {fineTuneEpochs}.");
        if (data is not null) Evaluator.CheckCompatible(model, data);
        var before = model.Counts;
        return model.Transact(() =>
        {
            model.EnsureBaseline(data);
            if (plan.Request.Structure == PruneStructure.Neuron) RemoveNeurons(model, plan);
            else DeleteConnections(model, plan);
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            model.Record("Prune", plan.Request.Describe(), before, metric, plan.TargetMet ? "target already met: nothing deleted" : null);
            if (fineTuneEpochs == 0) return null;
            var options = (fineTune ?? new TrainingOptions()) with { Epochs = fineTuneEpochs, Operation = "FineTune" };
            return Trainer.Train(model, data!, options, progress, cancel);
        });
    }

    private static void DeleteConnections(Mlp model, PruningPlan plan)
    {
        foreach (var (index, chosen) in plan.Connections)
        {
            var layer = model.State[index];
            using var scope = NewDisposeScope();
            var deleted = layer.Deleted is null ? chosen.clone() : layer.Deleted.logical_or(chosen);
            layer.SetWeight(layer.Weight.masked_fill(chosen, 0f).DetachFromDisposeScope());
            if (layer.Mask is { } mask)
            {
                var newMask = mask.masked_fill(chosen, 1f);
                var hidden = layer.Hidden!.masked_fill(chosen, 0f);
                if (newMask.min().item<float>() >= 1f) layer.SetMask(null, null);
                else layer.SetMask(newMask.DetachFromDisposeScope(), hidden.DetachFromDisposeScope());
            }
            layer.SetDeleted(deleted.DetachFromDisposeScope());
        }
    }

    private static void RemoveNeurons(Mlp model, PruningPlan plan)
    {
        var state = model.State;
        foreach (var (l, keepRows) in plan.KeepNeurons.OrderBy(p => p.Key))
        {
            using var scope = NewDisposeScope();
            var layer = state[l];
            var next = state[l + 1];
            var keep = tensor(keepRows);
            var removedRows = Enumerable.Range(0, layer.OutFeatures).Select(i => (long)i).Except(keepRows).ToArray();

            // A removed neuron whose incoming weights are all zero outputs the constant act(bias):
            // fold it into the next layer's bias so that the model's function does not change.
            var removed = tensor(removedRows);
            var rowsZero = layer.Weight.index_select(0, removed).abs().sum(1).eq(0f).data<bool>().ToArray();
            var biases = layer.Bias.index_select(0, removed).to_type(ScalarType.Float64).data<double>().ToArray();
            var constants = new double[removedRows.Length];
            bool anyConstant = false;
            for (int k = 0; k < removedRows.Length; k++)
            {
                if (!rowsZero[k]) continue;
                constants[k] = Mlp.ActivateScalar(biases[k], model.Activation);
                anyConstant |= constants[k] != 0;
            }
            if (anyConstant)
            {
                var c = tensor(constants.Select(v => (float)v).ToArray());
                var contribution = next.Weight.index_select(1, removed).matmul(c);
                next.SetBias((next.Bias + contribution).DetachFromDisposeScope());
            }

            layer.SetWeight(layer.Weight.index_select(0, keep).DetachFromDisposeScope());
            layer.SetBias(layer.Bias.index_select(0, keep).DetachFromDisposeScope());
            if (layer.Mask is { } m) layer.SetMask(NullIfAllOnes(m.index_select(0, keep)), layer.Hidden!.index_select(0, keep).DetachFromDisposeScope());
            if (layer.Mask is null && layer.Hidden is not null) layer.SetMask(null, null);
            if (layer.Deleted is { } d) layer.SetDeleted(NullIfNone(d.index_select(0, keep)));

            next.SetWeight(next.Weight.index_select(1, keep).DetachFromDisposeScope());
            if (next.Mask is { } nm) next.SetMask(NullIfAllOnes(nm.index_select(1, keep)), next.Hidden!.index_select(1, keep).DetachFromDisposeScope());
            if (next.Mask is null && next.Hidden is not null) next.SetMask(null, null);
            if (next.Deleted is { } nd) next.SetDeleted(NullIfNone(nd.index_select(1, keep)));
        }
    }

    private static Tensor? NullIfAllOnes(Tensor mask) => mask.min().item<float>() >= 1f ? null : mask.DetachFromDisposeScope();
    private static Tensor? NullIfNone(Tensor deleted) => deleted.any().item<bool>() ? deleted.DetachFromDisposeScope() : null;
}
