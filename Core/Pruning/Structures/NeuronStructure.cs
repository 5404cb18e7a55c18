using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Deletes whole hidden neurons, each with its <see cref="NeuronGroup"/>: the lowest-scoring
/// neurons of each hidden layer, or of all hidden layers ranked together (global scope). Output
/// neurons are never pruned and every layer keeps at least one neuron. The plan either removes
/// the neurons now (the layers shrink) or, inside training, masks them (<see cref="NeuronApplication"/>).
/// </summary>
[Structure(PruneStructure.Neuron)]
internal sealed class NeuronStructure : PrunableStructure
{
    public override int PrunableLayers(Mlp model) => model.LayerCount - 1;

    public override string Unit => "neurons";

    public override long BaselineCount(Mlp model, int layer) => BaselineNeurons(model)[layer];

    public override long PresentCount(Mlp model, int layer) => model.State[layer].OutFeatures;

    public override void Validate(Mlp model, PruningRequest request)
    {
        if (model.LayerCount < 2)
            throw SparsePruneException.Operation("NoHiddenNeurons", $"Model '{model.Name}' has no hidden layer, so it has no neuron to prune: output neurons are never pruned.");
    }

    public override PruningPlan Plan(Mlp model, PruningRequest request, int[] layers, ImportanceCriterion importance, MaskedNeurons? masked)
    {
        var state = model.State;
        var baseline = BaselineNeurons(model);
        int hiddenLayers = state.Count - 1;
        var scores = new double[hiddenLayers][];
        foreach (var l in layers) scores[l] = importance.NeuronScores(model, l);

        int Alive(int l) => state[l].OutFeatures - (masked?.In(l).Count ?? 0);
        bool IsMasked(int l, int i) => masked is not null && masked.Contains(l, i);
        var remove = Enumerable.Range(0, hiddenLayers).Select(_ => new List<int>()).ToList();
        var capped = new List<int>();
        if (request.Scope == PruneScope.Global)
        {
            long baseTotal = layers.Sum(l => (long)baseline[l]);
            long now = layers.Sum(l => (long)Alive(l));
            long add = Math.Max(0, Ranking.FloorCount(request.Ratio, baseTotal) - (baseTotal - now));
            var candidates = layers
                .SelectMany(l => scores[l].Select((v, i) => (Layer: l, Index: i, Score: v)))
                .Where(c => !IsMasked(c.Layer, c.Index))
                .OrderBy(c => c.Score); // stable: ties stay in (layer, index) order
            // Every layer keeps at least one neuron, and no more than the cap of its baseline goes.
            // (As in layer scope, the one-neuron floor alone caps the count without an error.)
            double cap = request.EffectiveMaxLayerSparsity;
            var room = new int[hiddenLayers];
            var capRoomOf = new int[hiddenLayers];
            long capRoom = 0;
            foreach (var l in layers)
            {
                int byCap = Math.Max(0, (int)Ranking.FloorCount(cap, baseline[l]) - (baseline[l] - Alive(l)));
                capRoomOf[l] = byCap;
                capRoom += byCap;
                room[l] = Math.Max(0, Math.Min(Alive(l) - 1, byCap));
            }
            if (add > capRoom)
                throw SparsePruneException.Argument("MaxLayerSparsityTooLow", string.Create(CultureInfo.InvariantCulture,
                    $"-Ratio {request.Ratio} removes {add} more neurons, but -MaxLayerSparsity {cap} leaves room for {capRoom}. Raise -MaxLayerSparsity or lower -Ratio."));
            foreach (var c in candidates)
            {
                if (add == 0) break;
                if (room[c.Layer] <= 0)
                {
                    // Held back by the cap (not by the one-neuron floor): global ranking wanted more here.
                    if (capRoomOf[c.Layer] < Alive(c.Layer) - 1 && !capped.Contains(c.Layer)) capped.Add(c.Layer);
                    continue;
                }
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
                remove[l].AddRange(scores[l].Select((v, i) => (v, i)).Where(p => !IsMasked(l, p.i)).OrderBy(p => p.v).Take((int)add).Select(p => p.i));
            }
        }

        var application = masked is null ? NeuronApplication.RemoveNow : NeuronApplication.MaskDuringTraining;
        var plan = new PruningPlan(request, new List<LayerChange>()) 
        {
            NeuronApplication = application, CappedLayers = capped.OrderBy(l => l).ToArray(),
            CapHoldsEveryLayer = layers.Length > 1 && capped.Count == layers.Length,
        };
        var changes = (List<LayerChange>)plan.Changes;
        var groups = remove.Select((r, l) => new NeuronGroup(l, r)).ToList();
        for (int l = 0; l < state.Count; l++)
        {
            var layer = state[l];
            var rows = l < hiddenLayers ? groups[l] : null;
            var columns = l > 0 ? groups[l - 1] : null;
            if (application == NeuronApplication.MaskDuringTraining)
            {
                // The chosen neurons' incoming rows and outgoing columns are deleted; the shapes stay.
                if (rows is not null) plan.NewlyMasked.Add(remove[l].ToList());
                if ((rows?.Neurons.Count ?? 0) > 0 || (columns?.Neurons.Count ?? 0) > 0)
                {
                    using var scope = NewDisposeScope();
                    plan.Connections[l] = NeuronGroup.Owned(layer, rows, columns).DetachFromDisposeScope();
                }
            }
            else if (rows is { Neurons.Count: > 0 })
                plan.RemovedNeurons.Add(rows);
            changes.Add(new LayerChange
            {
                Layer = l, Shape = $"{layer.InFeatures}x{layer.OutFeatures}", Weights = layer.PresentWeights,
                ZeroBefore = layer.PresentWeights - layer.NonZeroWeights, ZeroAfter = layer.PresentWeights - layer.NonZeroWeights,
                Deleting = NeuronGroup.PresentIn(layer, rows, columns),
                NeuronsBefore = layer.OutFeatures, NeuronsAfter = layer.OutFeatures - (rows?.Neurons.Count ?? 0),
            });
        }
        return plan;
    }
}
