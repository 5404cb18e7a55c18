using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Invoke-Pruning: deletes connections (stored sparse afterwards), whole hidden neurons (the
/// layers shrink) or all but N of every M weights. Targets count against the baseline and
/// include earlier deletions; zeros rank lowest, so masked weights go first.
/// </summary>
public static class Pruner
{
    /// <summary>
    /// Plans one pruning step. Taylor scores come from <paramref name="taylor"/> when given (one
    /// tensor per layer, e.g. accumulated during training), else from passes over <paramref name="data"/>.
    /// </summary>
    public static PruningPlan Plan(Mlp model, PruningRequest request, Dataset? data = null) => Plan(model, request, data, null);

    internal static PruningPlan Plan(Mlp model, PruningRequest request, Dataset? data, IReadOnlyList<Tensor>? taylor)
    {
        Validate(model, request);
        if (request.Criterion == PruneCriterion.Taylor && taylor is null && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-Criterion Taylor scores weights by |w·∂L/∂w| on data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        // A random ranking's seed is resolved now so that the history can replay it.
        if (request.Criterion == PruneCriterion.Random && request.Seed is null) request = request with { Seed = model.NextSeed() };
        List<Tensor>? computed = null;
        if (request.Criterion == PruneCriterion.Taylor && taylor is null)
            taylor = computed = Importance.Taylor(model, data!, request.TaylorBatchSize);
        try
        {
            // ERK scope: the overall target spread over the layers by their shapes, then per layer.
            var effective = request.Scope == PruneScope.ERK ? request with { Scope = PruneScope.Layer, LayerRatios = ErkRatios(model, request) } : request;
            var plan = effective.Structure switch
            {
                PruneStructure.Connection => PlanConnections(model, effective, taylor),
                PruneStructure.Neuron => PlanNeurons(model, effective, taylor),
                _ => PlanNM(model, effective, taylor),
            };
            plan.Request = request;
            return plan;
        }
        finally
        {
            if (computed is not null) foreach (var t in computed) t.Dispose();
        }
    }

    /// <summary>Each layer's target under ERK allocation of the request's ratio, from the layers' baseline shapes.</summary>
    private static double[] ErkRatios(Mlp model, PruningRequest request)
    {
        var widths = model.OriginalWidths;
        var inScope = InScope(model, request with { Scope = PruneScope.Layer });
        var shapes = inScope.Select(l => (widths[l], widths[l + 1])).ToList();
        var ratios = ErkAllocation.Erk(shapes, request.Ratio);
        var all = Enumerable.Range(0, model.LayerCount).Select(l => Math.Min(CurrentLayerRatio(model, request, l), 0.999999)).ToArray();
        for (int i = 0; i < inScope.Length; i++) all[inScope[i]] = ratios[i];
        return all;
    }

    /// <summary>The layers a request covers, in index order.</summary>
    private static int[] InScope(Mlp model, PruningRequest request)
    {
        int count = request.Structure == PruneStructure.Neuron ? model.LayerCount - 1 : model.LayerCount;
        return request.Layers?.Where(l => l < count).OrderBy(l => l).ToArray() ?? Enumerable.Range(0, count).ToArray();
    }

    /// <summary>
    /// The fraction of the scope's baseline (weights, or hidden neurons for Neuron) already deleted:
    /// where a pruning schedule starts.
    /// </summary>
    public static double CurrentRatio(Mlp model, PruningRequest request)
    {
        var layers = InScope(model, request);
        if (request.Structure == PruneStructure.Neuron)
        {
            var baseN = BaselineNeurons(model);
            long b = layers.Sum(l => (long)baseN[l]), now = layers.Sum(l => (long)model.State[l].OutFeatures);
            return b == 0 ? 0 : (double)(b - now) / b;
        }
        var baseW = BaselineWeights(model);
        long bw = layers.Sum(l => baseW[l]), present = layers.Sum(l => model.State[l].PresentWeights);
        return bw == 0 ? 0 : (double)(bw - present) / bw;
    }

    /// <summary>The fraction of one layer's baseline weights (Neuron: neurons) already deleted.</summary>
    public static double CurrentLayerRatio(Mlp model, PruningRequest request, int layer)
    {
        if (request.Structure == PruneStructure.Neuron)
        {
            var baseN = BaselineNeurons(model);
            return (double)(baseN[layer] - model.State[layer].OutFeatures) / baseN[layer];
        }
        var baseW = BaselineWeights(model);
        return (double)(baseW[layer] - model.State[layer].PresentWeights) / baseW[layer];
    }

    /// <summary>Checks a request against the model without planning it.</summary>
    public static void Check(Mlp model, PruningRequest request) => Validate(model, request);

    private static void Validate(Mlp model, PruningRequest request)
    {
        if (request.Structure != PruneStructure.NM && !(request.Ratio >= 0 && request.Ratio < 1))
            throw SparsePruneException.Argument("InvalidRatio",
                $"-Ratio must be at least 0 and below 1 (0.3 deletes 30 % of the baseline); got {request.Ratio.ToString(CultureInfo.InvariantCulture)}. A model needs some weights left.");
        if (request.Structure == PruneStructure.NM && !(request.KeepN >= 1 && request.GroupM > request.KeepN && request.GroupM <= 1024))
            throw SparsePruneException.Argument("InvalidNMPattern", $"An N:M pattern needs 1 <= N < M <= 1024; got {request.KeepN}:{request.GroupM}.");
        if (request.Structure == PruneStructure.Neuron && model.LayerCount < 2)
            throw SparsePruneException.Operation("NoHiddenNeurons", $"Model '{model.Name}' has no hidden layer, so it has no neuron to prune: output neurons are never pruned.");
        if (request.MaxLayerSparsity is { } cap && !(cap > 0 && cap <= 1))
            throw SparsePruneException.Argument("InvalidMaxLayerSparsity", $"-MaxLayerSparsity must be above 0 and at most 1 (0.98 lets global ranking delete up to 98 % of any one layer); got {cap.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Scope == PruneScope.ERK && request.Structure != PruneStructure.Connection)
            throw SparsePruneException.Argument("ScopeNotApplicable", $"-Scope ERK spreads connections over the layers by their shapes: use it with -Structure Connection (Neuron and NM rank within each layer or globally).");
        if (request.Scope == PruneScope.ERK && request.LayerRatios is not null)
            throw SparsePruneException.Argument("ParameterNotApplicable", "-Scope ERK computes a target per layer itself: give -Ratio, or -Scope Layer with a target per layer.");
        if (request.LayerRatios is { } ratios)
        {
            int count = request.Structure == PruneStructure.Neuron ? model.LayerCount - 1 : model.LayerCount;
            if (request.Scope != PruneScope.Layer || request.Structure == PruneStructure.NM)
                throw SparsePruneException.Argument("ParameterNotApplicable", "A target per layer applies to -Scope Layer with -Structure Connection or Neuron.");
            if (ratios.Length != count)
                throw SparsePruneException.Argument("InvalidRatio", $"Give one target per {(request.Structure == PruneStructure.Neuron ? "hidden " : "")}layer: {count}, not {ratios.Length}.");
            if (ratios.Any(r => !(r >= 0 && r < 1)))
                throw SparsePruneException.Argument("InvalidRatio", $"Every layer's target must be at least 0 and below 1; got {string.Join(",", ratios.Select(r => r.ToString(CultureInfo.InvariantCulture)))}.");
        }
        if (request.TaylorBatchSize < 1)
            throw SparsePruneException.Argument("InvalidBatchSize", $"-BatchSize must be at least 1; got {request.TaylorBatchSize}.");
        if (request.Layers is { } layers)
        {
            int count = request.Structure == PruneStructure.Neuron ? model.LayerCount - 1 : model.LayerCount;
            if (layers.Length == 0) throw SparsePruneException.Argument("LayerOutOfRange", "-Layer names no layer.");
            foreach (var l in layers)
                if (l < 0 || l >= count)
                    throw SparsePruneException.Argument("LayerOutOfRange", request.Structure == PruneStructure.Neuron
                        ? $"Layer {l} has no prunable neurons; the hidden layers of this model are 0..{count - 1} (output neurons are never pruned)."
                        : $"Layer {l} does not exist; this model has layers 0..{count - 1}.");
            if (layers.Distinct().Count() != layers.Length)
                throw SparsePruneException.Argument("DuplicateLayer", $"-Layer lists a layer twice: {string.Join(",", layers)}.");
        }
    }

    private static long[] BaselineWeights(Mlp model) =>
        model.Baseline?.LayerWeights ?? model.State.Select(l => l.DenseWeights).ToArray();

    private static int[] BaselineNeurons(Mlp model) =>
        model.Baseline?.LayerNeurons ?? model.State.Select(l => l.OutFeatures).ToArray();

    private static Tensor ConnectionScores(LayerState layer, PruningRequest request, Random rng, Tensor? taylor)
    {
        var s = Importance.Connections(layer, request.Criterion, rng, taylor);
        // Masked weights read 0 and rank lowest; deleted ones are out of the running.
        if (request.Criterion == PruneCriterion.Taylor) s = s.masked_fill(layer.Weight.eq(0f), 0f);
        return layer.Deleted is { } d ? s.masked_fill(d, float.PositiveInfinity) : s;
    }

    private static PruningPlan PlanConnections(Mlp model, PruningRequest request, IReadOnlyList<Tensor>? taylor)
    {
        var state = model.State;
        var baseline = BaselineWeights(model);
        var rng = new Random(request.Seed ?? 0);
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var layers = InScope(model, request);
        var scores = layers.Select(l => ConnectionScores(state[l], request, rng, taylor?[l])).ToList();
        var present = layers.Select(l => state[l].PresentWeights).ToArray();
        var baseIn = layers.Select(l => baseline[l]).ToArray();
        List<Tensor> chosen;
        if (request.Scope == PruneScope.Global)
        {
            long gone = baseIn.Sum() - present.Sum();
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseIn.Sum()) - gone);
            var room = Enumerable.Range(0, layers.Length).Select(i => request.MaxLayerSparsity is { } cap
                ? Math.Max(0, Ranking.FloorCount(cap, baseIn[i]) - (baseIn[i] - present[i])) : present[i]).ToArray();
            if (add > room.Sum())
                throw SparsePruneException.Argument("MaxLayerSparsityTooLow", string.Create(CultureInfo.InvariantCulture,
                    $"-Ratio {request.Ratio} deletes {add} more weights, but -MaxLayerSparsity {request.MaxLayerSparsity} leaves room for {room.Sum()}: at most {(double)(baseIn.Sum() - present.Sum() + room.Sum()) / baseIn.Sum():0.####} of the scope can go. Raise -MaxLayerSparsity or lower -Ratio."));
            chosen = Ranking.LowestKCapped(scores, add, room);
        }
        else
        {
            chosen = new List<Tensor>();
            for (int i = 0; i < layers.Length; i++)
            {
                long gone = baseIn[i] - present[i];
                long add = Math.Max(0, Ranking.FloorCount(request.LayerRatios?[layers[i]] ?? request.Ratio, baseIn[i]) - gone);
                chosen.Add(Ranking.LowestK(scores[i], add));
            }
        }
        FillConnectionChanges(model, plan, layers.Zip(chosen).ToDictionary(p => p.First, p => p.Second));
        return plan;
    }

    private static void FillConnectionChanges(Mlp model, PruningPlan plan, Dictionary<int, Tensor> chosenByLayer)
    {
        var changes = (List<LayerChange>)plan.Changes;
        var chosen = Enumerable.Range(0, model.State.Count)
            .Select(i => chosenByLayer.TryGetValue(i, out var c) ? c : zeros(model.State[i].Weight.shape, ScalarType.Float32)).ToList();
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

    private static PruningPlan PlanNM(Mlp model, PruningRequest request, IReadOnlyList<Tensor>? taylor)
    {
        var rng = new Random(request.Seed ?? 0);
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var chosen = new Dictionary<int, Tensor>();
        int m = request.GroupM, keep = request.KeepN;
        foreach (var index in InScope(model, request))
        {
            var layer = model.State[index];
            // Connections deleted earlier rank lowest here: they count among the M - N dropped
            // of their group, so a pattern already met deletes nothing more.
            var scores = Importance.Connections(layer, request.Criterion, rng, taylor?[index]);
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
            chosen[index] = chosenLayer.contiguous();
        }
        FillConnectionChanges(model, plan, chosen);
        return plan;
    }

    private static PruningPlan PlanNeurons(Mlp model, PruningRequest request, IReadOnlyList<Tensor>? taylor)
    {
        var state = model.State;
        var baseline = BaselineNeurons(model);
        var rng = new Random(request.Seed ?? 0);
        int hiddenLayers = state.Count - 1;
        var layers = InScope(model, request);
        var importance = new double[hiddenLayers][];
        foreach (var l in layers) importance[l] = Importance.Neurons(state[l], request.Criterion, rng, taylor?[l]);

        var masked = request.MaskedNeurons;
        int Alive(int l) => state[l].OutFeatures - (masked?[l].Count ?? 0);
        bool IsMasked(int l, int i) => masked is not null && masked[l].Contains(i);
        var remove = Enumerable.Range(0, hiddenLayers).Select(_ => new List<int>()).ToList();
        if (request.Scope == PruneScope.Global)
        {
            long baseTotal = layers.Sum(l => (long)baseline[l]);
            long now = layers.Sum(l => (long)Alive(l));
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseTotal) - (baseTotal - now));
            var candidates = layers
                .SelectMany(l => importance[l].Select((v, i) => (Layer: l, Index: i, Score: v)))
                .Where(c => !IsMasked(c.Layer, c.Index))
                .OrderBy(c => c.Score); // stable: ties stay in (layer, index) order
            // Every layer keeps at least one neuron, and no more than -MaxLayerSparsity of its baseline goes.
            // (As in layer scope, the one-neuron floor alone caps the count without an error.)
            var room = new int[hiddenLayers];
            long capRoom = 0;
            foreach (var l in layers)
            {
                int capped = request.MaxLayerSparsity is { } cap ? Math.Max(0, (int)Ranking.FloorCount(cap, baseline[l]) - (baseline[l] - Alive(l))) : Alive(l);
                capRoom += capped;
                room[l] = Math.Max(0, Math.Min(Alive(l) - 1, capped));
            }
            if (add > capRoom)
                throw SparsePruneException.Argument("MaxLayerSparsityTooLow", string.Create(CultureInfo.InvariantCulture,
                    $"-Ratio {request.Ratio} removes {add} more neurons, but -MaxLayerSparsity {request.MaxLayerSparsity} leaves room for {capRoom}. Raise -MaxLayerSparsity or lower -Ratio."));
            foreach (var c in candidates)
            {
                if (add == 0) break;
                if (room[c.Layer] <= 0) continue;
                remove[c.Layer].Add(c.Index);
                room[c.Layer]--;
                add--;
            }
        }
        else
        {
            foreach (var l in layers)
            {
                int now = Alive(l);
                long add = Math.Max(0, Ranking.FloorCount(request.LayerRatios?[l] ?? request.Ratio, baseline[l]) - (baseline[l] - now));
                add = Math.Min(add, now - 1);
                remove[l].AddRange(importance[l].Select((v, i) => (v, i)).Where(p => !IsMasked(l, p.i)).OrderBy(p => p.v).Take((int)add).Select(p => p.i));
            }
        }

        var plan = new PruningPlan(request, new List<LayerChange>());
        var changes = (List<LayerChange>)plan.Changes;
        for (int l = 0; l < state.Count; l++)
        {
            var layer = state[l];
            var removedRows = l < hiddenLayers ? remove[l].ToHashSet() : new HashSet<int>();
            var removedCols = l > 0 ? remove[l - 1].ToHashSet() : new HashSet<int>();
            if (masked is not null)
            {
                // Inside training: the chosen neurons' incoming rows and outgoing columns are deleted; the shapes stay.
                if (l < hiddenLayers) plan.NewlyMasked.Add(remove[l].ToList());
                if (removedRows.Count > 0 || removedCols.Count > 0)
                    plan.Connections[l] = Cross(layer, removedRows, removedCols).DetachFromDisposeScope();
            }
            else if (l < hiddenLayers && removedRows.Count > 0)
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

    /// <summary>A bool tensor shaped like the layer's weight, true in the given rows and columns.</summary>
    private static Tensor Cross(LayerState layer, HashSet<int> rows, HashSet<int> cols)
    {
        var hit = zeros(layer.Weight.shape, ScalarType.Bool);
        if (rows.Count > 0) hit.index_fill_(0, tensor(rows.Select(i => (long)i).ToArray()), true);
        if (cols.Count > 0) hit.index_fill_(1, tensor(cols.Select(i => (long)i).ToArray()), true);
        return hit;
    }

    /// <summary>Present (not yet deleted) weights in the given rows or columns of a layer.</summary>
    private static long PresentIn(LayerState layer, HashSet<int> rows, HashSet<int> cols)
    {
        if (rows.Count == 0 && cols.Count == 0) return 0;
        using var scope = NewDisposeScope();
        var hit = Cross(layer, rows, cols);
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
            ApplyToLayers(model, plan);
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            model.Record("Prune", plan.Request.Describe(), before, metric, plan.TargetMet ? "target already met: nothing deleted" : LayerSparsityNote(model, plan.Request));
            if (fineTuneEpochs == 0) return null;
            var options = (fineTune ?? new TrainingOptions()) with { Epochs = fineTuneEpochs, Operation = "FineTune" };
            return Trainer.Train(model, data!, options, progress, cancel);
        });
    }

    /// <summary>Applies a plan to the layers: no baseline, metric or history (schedules record their own).</summary>
    internal static void ApplyToLayers(Mlp model, PruningPlan plan)
    {
        if (plan.Request.Structure == PruneStructure.Neuron && plan.Request.MaskedNeurons is null) RemoveNeurons(model, plan);
        else DeleteConnections(model, plan);
    }

    /// <summary>Removes, at the end of training, the neurons that neuron pruning inside it masked.</summary>
    internal static void RemoveMaskedNeurons(Mlp model, IReadOnlyList<HashSet<int>> masked)
    {
        var plan = new PruningPlan(new PruningRequest { Structure = PruneStructure.Neuron }, new List<LayerChange>());
        for (int l = 0; l < masked.Count; l++)
            if (masked[l].Count > 0)
                plan.KeepNeurons[l] = Enumerable.Range(0, model.State[l].OutFeatures).Where(i => !masked[l].Contains(i)).Select(i => (long)i).ToArray();
        if (plan.KeepNeurons.Count > 0) RemoveNeurons(model, plan);
    }

    /// <summary>
    /// What global ranking chose, for the history: each layer's share of its baseline now deleted
    /// (neurons for Neuron) and, for connections, its overall sparsity. Null for layer scope.
    /// </summary>
    internal static string? LayerSparsityNote(Mlp model, PruningRequest request)
    {
        if (request.Scope == PruneScope.Layer || request.Structure == PruneStructure.NM) return null;
        var baseW = BaselineWeights(model);
        var baseN = BaselineNeurons(model);
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
            if (layer.Mask is { } mask)
            {
                var newMask = mask.masked_fill(chosen, true);
                var hidden = layer.Hidden!.masked_fill(chosen, 0f);
                if (newMask.all().item<bool>()) layer.SetMask(null, null);
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
            var origins = model.NeuronOrigins.Length == state.Count ? model.NeuronOrigins.ToArray() : new int[]?[state.Count];
            var origin = model.OriginOf(l);
            origins[l] = keepRows.Select(i => origin[i]).ToArray();
            model.NeuronOrigins = origins;
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

    private static Tensor? NullIfAllOnes(Tensor mask) => mask.all().item<bool>() ? null : mask.DetachFromDisposeScope();
    private static Tensor? NullIfNone(Tensor deleted) => deleted.any().item<bool>() ? deleted.DetachFromDisposeScope() : null;
}
