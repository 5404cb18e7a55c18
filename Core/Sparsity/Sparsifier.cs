using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Set-Sparsity: hides weights behind a mask, ranked by an <see cref="ImportanceCriterion"/>
/// (magnitude by default). The mask is recomputed from the underlying weights every time, so
/// the target is absolute and a lower target brings hidden weights back. What is Set-Sparsity's
/// own: the groups it ranks in (scope, -Layer, -MaxLayerSparsity, -Threshold) and installing
/// masks that keep the weights behind them.
/// </summary>
public static class Sparsifier
{
    /// <summary><paramref name="data"/>: the data criteria that score from gradients (Taylor, Fisher) run on.</summary>
    public static SparsityPlan Plan(Mlp model, SparsityRequest request, Dataset? data = null, CancellationToken cancel = default) =>
        Plan(model, request, preferNative: true, data, cancel);

    /// <summary>
    /// <paramref name="preferNative"/>: choose with <see cref="NativeSelect"/> when every tensor
    /// is a contiguous CPU tensor of the expected dtype (false: always the torch reference path).
    /// </summary>
    internal static SparsityPlan Plan(Mlp model, SparsityRequest request, bool preferNative, Dataset? data = null, CancellationToken cancel = default)
    {
        Validate(model, request);
        QuantizationGuard.RefuseIfQuantized(model, "Set-Sparsity");
        if (ImportanceCriterion.ScoresFromData(request.Method) && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-Method {request.Method} ranks weights by gradients on data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
        // A random ranking's seed is resolved now so that the history can replay it.
        request = request.WithRandomSeed(model);
        // Layers in index order, whatever order -Layer gives: global ties break by layer, then position.
        var layers = request.Layers?.OrderBy(l => l).ToArray() ?? Enumerable.Range(0, model.LayerCount).ToArray();
        var state = model.State;
        var present = layers.Select(l => state[l].PresentWeights).ToArray();
        var groups = Groups(model, request, layers, present);
        using var scope = NewDisposeScope();
        var scores = Scores(model, request, layers, data, cancel);

        var keep = layers.Select(l => empty(state[l].Weight.shape, ScalarType.Bool, device: state[l].Weight.device)).ToList();
        foreach (var k in keep) RawTensor.AdviseHugePages(k);
        var counts = preferNative ? LayerSelection.Native(model, layers, groups, scores, keep) : null;
        bool native = counts is not null;
        counts ??= LayerSelection.Reference(model, layers, groups, scores, keep);
        NativeSelect.LayerCounts[] Select(List<NativeSelect.Group> g) =>
            native ? LayerSelection.Native(model, layers, g, scores, keep)! : LayerSelection.Reference(model, layers, g, scores, keep);
        var capped = request.Scope == PruneScope.Global && request.MaxLayerSparsity is { } cap && request.Sparsity is { } target
            ? HoldToCap(layers, present, target, cap, ref counts, Select) : Array.Empty<int>();

        var masks = new List<PlannedMask>();
        var changes = new List<LayerChange>();
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = state[layers[i]];
            var c = counts[i];
            masks.Add(new PlannedMask { Layer = layers[i], Keep = keep[i].DetachFromDisposeScope(), KeepsAll = c.Masked == 0, Changes = c.Changed > 0 });
            changes.Add(new LayerChange
            {
                Layer = layers[i], Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = present[i],
                ZeroBefore = c.ZeroBefore, ZeroAfter = c.ZeroAfter, NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures,
            });
        }
        return new SparsityPlan(request, masks, changes) { Native = native, CappedLayers = capped };
    }

    /// <summary>
    /// The criterion's scores of the layers in scope, drawn in layer order (one seed, one
    /// ranking); null when it ranks by magnitude, which the selection reads from the weights.
    /// </summary>
    private static List<Tensor>? Scores(Mlp model, SparsityRequest request, int[] layers, Dataset? data, CancellationToken cancel)
    {
        using var criterion = ImportanceCriterion.Create(request.Method, request.Seed ?? 0);
        if (criterion is GradientCriterion gradients) gradients.ObserveData(model, data!, request.ScoringBatchSize, cancel, liftMasks: true);
        var scores = layers.Select(l => criterion.UnmaskedConnectionScores(model, l)).ToList();
        if (scores.All(s => s is null)) return null;
        return scores.Select(s => s ?? throw new InvalidOperationException($"{request.Method} gave scores for some layers only.")).ToList();
    }

    /// <summary>What -MaxLayerSparsity held back, for the history and the cmdlet's warning; null when nothing.</summary>
    public static string? CapNote(SparsityPlan plan) => plan.CappedLayers.Count == 0 ? null
        : $"-MaxLayerSparsity {plan.Request.MaxLayerSparsity!.Value.ToString(CultureInfo.InvariantCulture)} held layer(s) {string.Join(", ", plan.CappedLayers)} at the cap where global ranking would have masked more"
          + (plan.CappedLayers.Count == plan.Changes.Count && plan.Changes.Count > 1 ? "; every layer is at the cap, so the allocation is uniform rather than global" : "");

    /// <summary>
    /// Global scope under -MaxLayerSparsity: a layer that global ranking would mask past the cap
    /// keeps its own lowest floor(cap × present) instead, and the rest of the count is ranked
    /// again among the other layers, until no layer passes its cap. Returns the layers held.
    /// </summary>
    private static int[] HoldToCap(int[] layers, long[] present, double target, double cap, ref NativeSelect.LayerCounts[] counts,
        Func<List<NativeSelect.Group>, NativeSelect.LayerCounts[]> select)
    {
        long total = Ranking.FloorCount(target, present.Sum());
        var room = present.Select(p => Ranking.FloorCount(cap, p)).ToArray();
        if (total > room.Sum())
            throw SparsePruneException.Argument("MaxLayerSparsityTooLow", string.Create(CultureInfo.InvariantCulture,
                $"-Sparsity {target} masks {total} weights, but -MaxLayerSparsity {cap} leaves room for {room.Sum()}. Raise -MaxLayerSparsity or lower -Sparsity."));
        var held = new SortedSet<int>();
        while (true)
        {
            var current = counts;
            var over = Enumerable.Range(0, layers.Length).Where(i => !held.Contains(i) && current[i].Masked > room[i]).ToList();
            if (over.Count == 0) break;
            held.UnionWith(over);
            var free = Enumerable.Range(0, layers.Length).Where(i => !held.Contains(i)).ToArray();
            var groups = held.Select(i => new NativeSelect.Group(new[] { i }, room[i])).ToList();
            if (free.Length > 0) groups.Add(new NativeSelect.Group(free, total - held.Sum(i => room[i])));
            counts = select(groups);
        }
        return held.Select(i => layers[i]).ToArray();
    }

    /// <summary>Which layers rank together and how many of their weights each group masks (indices into the layers in scope).</summary>
    private static List<NativeSelect.Group> Groups(Mlp model, SparsityRequest request, int[] layers, long[] present)
    {
        var all = Enumerable.Range(0, layers.Length).ToArray();
        if (request.Threshold is { } t)
            return new List<NativeSelect.Group> { new(all, 0, (float)t) };
        if (request.Scope == PruneScope.Global)
            return new List<NativeSelect.Group> { new(all, Ranking.FloorCount(request.Sparsity!.Value, present.Sum())) };
        // ERK: the sparsity spread over the layers in scope by their shapes (small layers stay denser).
        var perLayer = request.Scope == PruneScope.ERK
            ? ErkAllocation.Erk(layers.Select(l => (model.State[l].InFeatures, model.State[l].OutFeatures)).ToList(), request.Sparsity!.Value)
            : layers.Select(_ => request.Sparsity!.Value).ToArray();
        return all.Select(i => new NativeSelect.Group(new[] { i }, Ranking.FloorCount(perLayer[i], present[i]))).ToList();
    }

    /// <summary>
    /// Installs the plan's masks; the weights behind them are kept for a later, lower target.
    /// All or nothing without a copy of the model: the values only move between each layer's
    /// weights and hidden values, so the old masks are the whole undo record.
    /// </summary>
    public static void Apply(Mlp model, SparsityPlan plan, Dataset? data)
    {
        if (plan.Applied) throw new InvalidOperationException("This sparsity plan was applied already; plan the step again.");
        var before = model.Counts;
        var exchange = new MaskExchange(model, plan);
        ModelTransaction.Run(model, () =>
        {
            model.EnsureBaseline(data);
            exchange.Install();
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            model.Record("Sparsify", plan.Request.Describe(), before, metric, CapNote(plan));
            return 0;
        }, exchange.Undo);
        exchange.Complete();
        plan.Applied = true;
    }

    private static void Validate(Mlp model, SparsityRequest request)
    {
        if ((request.Sparsity is null) == (request.Threshold is null))
            throw SparsePruneException.Argument("SparsityTargetRequired", "Give exactly one of -Sparsity (a fraction in [0, 1)) and -Threshold (a magnitude).");
        if (request.Sparsity is { } s && !(s >= 0 && s < 1))
            throw SparsePruneException.Argument("InvalidSparsity", $"-Sparsity must be at least 0 and below 1 (0.8 zeroes 80 % of the weights); got {s.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Threshold is { } t && !(t >= 0 && !double.IsInfinity(t)))
            throw SparsePruneException.Argument("InvalidThreshold", $"-Threshold must be a finite magnitude of 0 or more; got {t.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Threshold is not null && request.Method is not (PruneCriterion.L1 or PruneCriterion.L2))
            throw SparsePruneException.Argument("ThresholdNeedsMagnitude", $"-Threshold compares magnitudes: use it with -Method L1 (Magnitude) or L2, or give -Sparsity to rank by {request.Method}.");
        if (request.ScoringBatchSize < 1)
            throw SparsePruneException.Argument("InvalidBatchSize", $"The scoring batch size must be at least 1; got {request.ScoringBatchSize}.");
        if (request.MaxLayerSparsity is { } cap)
        {
            if (request.Scope != PruneScope.Global || request.Sparsity is null)
                throw SparsePruneException.Argument("ParameterNotApplicable", "-MaxLayerSparsity caps what global ranking masks in one layer: give it with -Sparsity and -Scope Global.");
            if (!(cap > 0 && cap <= 1))
                throw SparsePruneException.Argument("InvalidMaxLayerSparsity", $"-MaxLayerSparsity must be above 0 and at most 1 (0.9 masks at most 90 % of any one layer); got {cap.ToString(CultureInfo.InvariantCulture)}.");
        }
        if (request.Layers is { } layers)
        {
            if (layers.Length == 0) throw SparsePruneException.Argument("LayerOutOfRange", "-Layer names no layer.");
            foreach (var l in layers)
                if (l < 0 || l >= model.LayerCount)
                    throw SparsePruneException.Argument("LayerOutOfRange", $"Layer {l} does not exist; this model has layers 0..{model.LayerCount - 1}.");
            if (layers.Distinct().Count() != layers.Length)
                throw SparsePruneException.Argument("DuplicateLayer", $"-Layer lists a layer twice: {string.Join(",", layers)}.");
        }
    }
}
