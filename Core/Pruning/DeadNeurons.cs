using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Hidden neurons that connection pruning left without a use: every outgoing weight gone (nothing
/// reads the neuron) or every incoming weight gone (it outputs the constant act(bias), which
/// <see cref="NeuronGroup.Remove"/> folds into the next layer's bias). Removing them changes no
/// output beyond float rounding and saves their biases, and the file their rows' and columns'
/// share of the position lists; at 99 % sparsity LeNet-300-100 has dozens.
/// </summary>
internal static class DeadNeurons
{
    /// <summary>
    /// Removes the dead neurons, layer by layer until none is left (one removal can leave another
    /// neuron unread), and records it; returns how many per hidden layer. A model with a
    /// Set-Sparsity mask is left alone: its masked weights read zero but may come back.
    /// </summary>
    public static int[] Remove(Mlp model)
    {
        var removed = new int[Math.Max(0, model.LayerCount - 1)];
        if (model.State.Any(l => l.Keep is not null)) return removed;
        var before = model.Counts;
        int neuronsBefore = (int)model.HiddenNeurons;
        ModelTransaction.Run(model, () => { RemoveAll(model, removed); return 0; });
        if (removed.Sum() > 0)
            model.Record("RemoveDeadNeurons", new HistorySettings().Add("Removed", removed), before, null,
                $"{removed.Sum()} of {neuronsBefore} hidden neurons had no incoming or no outgoing weight left (per hidden layer: {string.Join(", ", removed)}); removed, a constant one's output folded into the next layer's bias");
        return removed;
    }

    private static void RemoveAll(Mlp model, int[] removed)
    {
        bool again = true;
        while (again)
        {
            again = false;
            for (int l = 0; l + 1 < model.LayerCount; l++)
            {
                var dead = Find(model.State[l], model.State[l + 1]);
                // A layer keeps one neuron: a layer of none is no network.
                if (dead.Count >= model.State[l].OutFeatures) dead = dead.Skip(1).ToList();
                if (dead.Count == 0) continue;
                new NeuronGroup(l, dead).Remove(model);
                removed[l] += dead.Count;
                again = true;
            }
        }
    }

    /// <summary>Neurons of <paramref name="layer"/> whose row there or column in <paramref name="next"/> holds no non-zero present weight.</summary>
    private static List<int> Find(LayerState layer, LayerState next)
    {
        using var scope = NewDisposeScope();
        var live = layer.Weight.ne(0f);
        if (layer.Deleted is { } d) live = live.logical_and(d.logical_not());
        var liveNext = next.Weight.ne(0f);
        if (next.Deleted is { } nd) liveNext = liveNext.logical_and(nd.logical_not());
        var fedBy = live.any(1).data<bool>().ToArray();
        var readBy = liveNext.any(0).data<bool>().ToArray();
        return Enumerable.Range(0, layer.OutFeatures).Where(i => !fedBy[i] || !readBy[i]).ToList();
    }
}
