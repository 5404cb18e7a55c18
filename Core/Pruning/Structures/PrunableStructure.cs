using System.Reflection;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// What pruning deletes, one class per structure: connections, whole neurons (as
/// <see cref="NeuronGroup"/>s) or all but N of every M weights. A structure turns a request and
/// an <see cref="ImportanceCriterion"/>'s scores into a <see cref="PruningPlan"/>; it never
/// computes scores itself, and the criterion never knows the structure.
/// </summary>
internal abstract class PrunableStructure
{
    private static readonly IReadOnlyDictionary<PruneStructure, PrunableStructure> Registry =
        typeof(PrunableStructure).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(PrunableStructure).IsAssignableFrom(t))
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<StructureAttribute>()))
            .Where(p => p.Attribute is not null)
            .ToDictionary(p => p.Attribute!.Kind, p => (PrunableStructure)Activator.CreateInstance(p.Type, nonPublic: true)!);

    /// <summary>The structure <paramref name="kind"/> names (structures hold no state: one instance each).</summary>
    public static PrunableStructure For(PruneStructure kind) =>
        Registry.TryGetValue(kind, out var s) ? s : throw new InvalidOperationException($"No pruning structure implements {kind}.");

    /// <summary>How many layers (from layer 0) this structure can prune: all, or the hidden ones.</summary>
    public virtual int PrunableLayers(Mlp model) => model.LayerCount;

    /// <summary>False for a structure with a fixed pattern instead of a ratio target (N:M).</summary>
    public virtual bool HasRatio => true;

    /// <summary>What the ratio counts, for messages: "weights" or "neurons".</summary>
    public virtual string Unit => "weights";

    /// <summary>The layer's count before any pruning (weights, or output neurons).</summary>
    public virtual long BaselineCount(Mlp model, int layer) => BaselineWeights(model)[layer];

    /// <summary>The layer's count now.</summary>
    public virtual long PresentCount(Mlp model, int layer) => model.State[layer].PresentWeights;

    /// <summary>The fraction of one layer's baseline already deleted.</summary>
    public double CurrentLayerRatio(Mlp model, int layer)
    {
        long baseline = BaselineCount(model, layer);
        return baseline == 0 ? 0 : (double)(baseline - PresentCount(model, layer)) / baseline;
    }

    /// <summary>The fraction of the given layers' baseline already deleted: where a schedule starts.</summary>
    public double CurrentRatio(Mlp model, IEnumerable<int> layers)
    {
        long baseline = 0, present = 0;
        foreach (var l in layers) { baseline += BaselineCount(model, l); present += PresentCount(model, l); }
        return baseline == 0 ? 0 : (double)(baseline - present) / baseline;
    }

    /// <summary>Checks what only this structure knows (the request's own ranges are checked by <see cref="Pruner"/>).</summary>
    public virtual void Validate(Mlp model, PruningRequest request) { }

    /// <summary>
    /// Plans the deletions that bring <paramref name="layers"/> (in index order) to the request's
    /// target. <paramref name="masked"/>: neuron pruning inside training (see <see cref="NeuronApplication"/>).
    /// </summary>
    public abstract PruningPlan Plan(Mlp model, PruningRequest request, int[] layers, ImportanceCriterion importance, MaskedNeurons? masked);

    internal static long[] BaselineWeights(Mlp model) =>
        model.Baseline?.LayerWeights ?? model.State.Select(l => l.DenseWeights).ToArray();

    internal static int[] BaselineNeurons(Mlp model) =>
        model.Baseline?.LayerNeurons ?? model.State.Select(l => l.OutFeatures).ToArray();

    /// <summary>
    /// Adds one <see cref="LayerChange"/> per layer for a plan that deletes the chosen connections
    /// (float 1/0 tensors by layer; layers not in the dictionary delete nothing).
    /// </summary>
    protected static void AddConnectionChanges(Mlp model, PruningPlan plan, Dictionary<int, Tensor> chosenByLayer)
    {
        var changes = (List<LayerChange>)plan.Changes;
        for (int i = 0; i < model.State.Count; i++)
        {
            var layer = model.State[i];
            var chosen = chosenByLayer.TryGetValue(i, out var c) ? c : zeros(layer.Weight.shape, ScalarType.Float32);
            long deleting = chosen.count_nonzero().item<long>();
            if (deleting > 0) plan.Connections[i] = chosen.to_type(ScalarType.Bool).DetachFromDisposeScope();
            long present = layer.PresentWeights, zero = present - layer.NonZeroWeights;
            long zeroChosen = deleting == 0 ? 0 : (long)(layer.Weight.eq(0f).to_type(ScalarType.Float32) * chosen).sum().item<float>();
            changes.Add(new LayerChange
            {
                Layer = i, Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = present,
                ZeroBefore = zero, ZeroAfter = zero - zeroChosen, Deleting = deleting,
                NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures,
            });
        }
    }
}
