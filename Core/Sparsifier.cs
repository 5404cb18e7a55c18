using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>What Set-Sparsity is asked to do: exactly one of <see cref="Sparsity"/> and <see cref="Threshold"/>.</summary>
public sealed record SparsityRequest
{
    public double? Sparsity { get; init; }
    public double? Threshold { get; init; }
    public PruneScope Scope { get; init; } = PruneScope.Layer;
    public SparsityMethod Method { get; init; } = SparsityMethod.Magnitude;
    /// <summary>Layers in scope (null: all).</summary>
    public int[]? Layers { get; init; }
    public int? Seed { get; init; }

    public string Describe()
    {
        var target = Sparsity is { } s ? $"Sparsity={s.ToString(CultureInfo.InvariantCulture)}" : $"Threshold={Threshold!.Value.ToString(CultureInfo.InvariantCulture)}";
        var layers = Layers is null ? "" : $" Layer={string.Join(",", Layers)}";
        var seed = Method == SparsityMethod.Random && Seed is { } sd ? $" Seed={sd}" : "";
        return $"{target} Scope={Scope} Method={Method}{layers}{seed}";
    }
}

/// <summary>One layer's effect of a sparsity or pruning step.</summary>
public sealed class LayerChange
{
    public int Layer { get; init; }
    public string Shape { get; init; } = "";
    /// <summary>Weights present before the step.</summary>
    public long Weights { get; init; }
    public long ZeroBefore { get; init; }
    public long ZeroAfter { get; init; }
    /// <summary>Connections this step deletes (pruning only).</summary>
    public long Deleting { get; init; }
    public int NeuronsBefore { get; init; }
    public int NeuronsAfter { get; init; }
    public override string ToString() => Deleting == 0 && NeuronsAfter == NeuronsBefore && ZeroAfter == ZeroBefore
        ? $"layer {Layer} ({Shape}): unchanged, {ZeroBefore} of {Weights} weights zero"
        : Deleting > 0 || NeuronsAfter != NeuronsBefore
        ? $"layer {Layer} ({Shape}): delete {Deleting} of {Weights} weights" + (NeuronsAfter != NeuronsBefore ? $", neurons {NeuronsBefore} -> {NeuronsAfter}" : "")
        : $"layer {Layer} ({Shape}): {ZeroAfter} of {Weights} weights zero (now {ZeroBefore})";
}

/// <summary>A computed but not yet applied sparsity change: what -WhatIf shows.</summary>
public sealed class SparsityPlan : IDisposable
{
    internal SparsityPlan(SparsityRequest request, List<(int Layer, Tensor Mask)> masks, List<LayerChange> changes)
    {
        Request = request;
        Masks = masks;
        Changes = changes;
    }

    public SparsityRequest Request { get; }
    public IReadOnlyList<LayerChange> Changes { get; }
    internal List<(int Layer, Tensor Mask)> Masks { get; }
    public bool ChangesNothing => Changes.All(c => c.ZeroAfter == c.ZeroBefore) && !MasksDiffer;
    internal bool MasksDiffer { get; init; }
    public void Dispose() { foreach (var (_, m) in Masks) m.Dispose(); }
}

/// <summary>
/// Set-Sparsity: chooses weights to hide behind a mask by magnitude (or at random). The mask
/// is recomputed from the underlying weights every time, so the target is absolute and a
/// lower target brings hidden weights back.
/// </summary>
public static class Sparsifier
{
    public static SparsityPlan Plan(Mlp model, SparsityRequest request)
    {
        Validate(model, request);
        // A random mask's seed is resolved now so that the history can replay it.
        if (request.Method == SparsityMethod.Random && request.Seed is null) request = request with { Seed = model.NextSeed() };
        // Layers in index order, whatever order -Layer gives: global ties break by layer, then position.
        var layers = request.Layers?.OrderBy(l => l).ToArray() ?? Enumerable.Range(0, model.LayerCount).ToArray();
        var state = model.State;
        var rng = new Random(request.Seed ?? 0);
        var masks = new List<(int, Tensor)>();
        var changes = new List<LayerChange>();
        bool differ = false;
        using var scope = NewDisposeScope();

        var underlying = layers.Select(l => state[l].Underlying()).ToList();
        var deleted = layers.Select(l => state[l].Deleted).ToList();
        // Deleted connections are out of scope: +inf never ranks among the lowest.
        var scores = new List<Tensor>();
        for (int i = 0; i < layers.Length; i++)
        {
            var s = request.Method == SparsityMethod.Random ? Ranking.RandomScores(underlying[i].shape, rng) : underlying[i].abs();
            if (deleted[i] is { } d) s = s.masked_fill(d, float.PositiveInfinity);
            scores.Add(s);
        }
        var present = layers.Select(l => state[l].PresentWeights).ToArray();

        List<Tensor> newMasks;
        if (request.Threshold is { } t)
        {
            newMasks = scores.Select(s => s.ge(t).to_type(ScalarType.Float32)).ToList();
        }
        else if (request.Scope == PruneScope.Global)
        {
            var flat = cat(scores.Select(s => s.reshape(-1)).ToList(), 0);
            var chosen = Ranking.LowestK(flat, Ranking.FloorCount(request.Sparsity!.Value, present.Sum()));
            newMasks = Ranking.Split(chosen, scores.Select(s => s.shape).ToList()).Select(c => 1f - c).ToList();
        }
        else
        {
            // ERK: the sparsity spread over the layers in scope by their shapes (small layers stay denser).
            var perLayer = request.Scope == PruneScope.ERK
                ? Allocation.Erk(layers.Select(l => (state[l].InFeatures, state[l].OutFeatures)).ToList(), request.Sparsity!.Value)
                : layers.Select(_ => request.Sparsity!.Value).ToArray();
            newMasks = scores.Select((s, i) => 1f - Ranking.LowestK(s, Ranking.FloorCount(perLayer[i], present[i]))).ToList();
        }

        for (int i = 0; i < layers.Length; i++)
        {
            var layer = state[layers[i]];
            long zeroBefore = present[i] - layer.NonZeroWeights;
            long zeroAfter = present[i] - (underlying[i] * newMasks[i]).count_nonzero().item<long>();
            var currentKeep = layer.Mask ?? ones_like(newMasks[i]);
            if (!currentKeep.eq(newMasks[i]).all().item<bool>()) differ = true;
            masks.Add((layers[i], newMasks[i].DetachFromDisposeScope()));
            changes.Add(new LayerChange
            {
                Layer = layers[i], Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = present[i],
                ZeroBefore = zeroBefore, ZeroAfter = zeroAfter, NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures,
            });
        }
        return new SparsityPlan(request, masks, changes) { MasksDiffer = differ };
    }

    /// <summary>Installs the plan's masks; the weights behind them are kept for a later, lower target.</summary>
    public static void Apply(Mlp model, SparsityPlan plan, Dataset? data)
    {
        var before = model.Counts;
        model.Transact(() =>
        {
            model.EnsureBaseline(data);
            foreach (var (index, mask) in plan.Masks)
            {
                var layer = model.State[index];
                using var scope = NewDisposeScope();
                var u = layer.Underlying();
                var keepAll = mask.min().item<float>() >= 1f;
                var weight = (u * mask).DetachFromDisposeScope();
                if (keepAll) layer.SetMask(null, null);
                else layer.SetMask(mask.clone().DetachFromDisposeScope(), (u * (1f - mask)).DetachFromDisposeScope());
                layer.SetWeight(weight);
            }
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            model.Record("Sparsify", plan.Request.Describe(), before, metric);
            return 0;
        });
    }

    private static void Validate(Mlp model, SparsityRequest request)
    {
        if ((request.Sparsity is null) == (request.Threshold is null))
            throw SparsePruneException.Argument("SparsityTargetRequired", "Give exactly one of -Sparsity (a fraction in [0, 1)) and -Threshold (a magnitude).");
        if (request.Sparsity is { } s && !(s >= 0 && s < 1))
            throw SparsePruneException.Argument("InvalidSparsity", $"-Sparsity must be at least 0 and below 1 (0.8 zeroes 80 % of the weights); got {s.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Threshold is { } t && !(t >= 0 && !double.IsInfinity(t)))
            throw SparsePruneException.Argument("InvalidThreshold", $"-Threshold must be a finite magnitude of 0 or more; got {t.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Threshold is not null && request.Method == SparsityMethod.Random)
            throw SparsePruneException.Argument("ThresholdNeedsMagnitude", "-Threshold compares magnitudes: use it with -Method Magnitude, or give -Sparsity for random masks.");
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
