using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Deletes single connections: the lowest-scoring weights of each layer (layer scope, or a
/// target per layer) or of all layers ranked together (global scope, each layer held to
/// -MaxLayerSparsity). Masked weights read 0 and so rank lowest; deleted ones are out of the running.
/// </summary>
[Structure(PruneStructure.Connection)]
internal sealed class ConnectionStructure : PrunableStructure
{
    public override PruningPlan Plan(Mlp model, PruningRequest request, int[] layers, ImportanceCriterion importance, MaskedNeurons? masked)
    {
        var state = model.State;
        var baseline = BaselineWeights(model);
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var scores = layers.Select(l =>
        {
            var s = importance.ConnectionScores(model, l);
            return state[l].Deleted is { } d ? s.masked_fill(d, float.PositiveInfinity) : s;
        }).ToList();
        var present = layers.Select(l => state[l].PresentWeights).ToArray();
        var baseIn = layers.Select(l => baseline[l]).ToArray();
        List<Tensor> chosen;
        if (request.Scope == PruneScope.Global)
        {
            long gone = baseIn.Sum() - present.Sum();
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseIn.Sum()) - gone);
            double cap = request.EffectiveMaxLayerSparsity;
            var room = Enumerable.Range(0, layers.Length).Select(i => Math.Max(0, Ranking.FloorCount(cap, baseIn[i]) - (baseIn[i] - present[i]))).ToArray();
            if (add > room.Sum())
                throw SparsePruneException.Argument("MaxLayerSparsityTooLow", string.Create(CultureInfo.InvariantCulture,
                    $"-Ratio {request.Ratio} deletes {add} more weights, but -MaxLayerSparsity {cap} leaves room for {room.Sum()}: at most {(double)(baseIn.Sum() - present.Sum() + room.Sum()) / baseIn.Sum():0.####} of the scope can go. Raise -MaxLayerSparsity or lower -Ratio."));
            chosen = Ranking.LowestKCapped(scores, add, room, out var capped);
            // A layer held at its cap while global ranking wanted more: say so (a cap that holds
            // every layer turns global ranking into uniform allocation).
            plan.CappedLayers = capped.Where(i => room[i] < present[i]).Select(i => layers[i]).OrderBy(l => l).ToArray();
            plan.CapHoldsEveryLayer = layers.Length > 1 && plan.CappedLayers.Count == layers.Length;
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
        AddConnectionChanges(model, plan, layers.Zip(chosen).ToDictionary(p => p.First, p => p.Second));
        return plan;
    }
}
