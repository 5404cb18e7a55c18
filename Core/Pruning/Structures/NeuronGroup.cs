using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Neurons of one hidden layer taken as one coupled group, as Torch-Pruning groups coupled
/// layers: neuron i of hidden layer <see cref="Layer"/> owns row i of that layer's weight and bias
/// (what it computes) and column i of the next layer's weight (where its output goes). Neuron
/// pruning scores, deletes and removes a neuron's row and column together.
/// </summary>
internal sealed class NeuronGroup
{
    public NeuronGroup(int layer, IEnumerable<int> neurons)
    {
        Layer = layer;
        Neurons = neurons.ToHashSet();
    }

    /// <summary>The hidden layer whose output neurons these are (rows here, columns in <see cref="Layer"/> + 1).</summary>
    public int Layer { get; }
    public IReadOnlySet<int> Neurons { get; }

    /// <summary>
    /// The weights of <paramref name="layerState"/> (layer <paramref name="layer"/> of the model)
    /// that the groups own: rows of <paramref name="rows"/>' neurons and columns of
    /// <paramref name="columns"/>' (the group of the layer before). Bool, shaped like the weight.
    /// </summary>
    public static Tensor Owned(LayerState layerState, NeuronGroup? rows, NeuronGroup? columns)
    {
        var hit = zeros(layerState.Weight.shape, ScalarType.Bool);
        if (rows is { Neurons.Count: > 0 }) hit.index_fill_(0, tensor(rows.Neurons.Select(i => (long)i).ToArray()), true);
        if (columns is { Neurons.Count: > 0 }) hit.index_fill_(1, tensor(columns.Neurons.Select(i => (long)i).ToArray()), true);
        return hit;
    }

    /// <summary>Weights the groups own in a layer that are still present (not deleted before).</summary>
    public static long PresentIn(LayerState layerState, NeuronGroup? rows, NeuronGroup? columns)
    {
        if ((rows?.Neurons.Count ?? 0) == 0 && (columns?.Neurons.Count ?? 0) == 0) return 0;
        using var scope = NewDisposeScope();
        var hit = Owned(layerState, rows, columns);
        if (layerState.Deleted is { } d) hit = hit.logical_and(d.logical_not());
        return hit.count_nonzero().item<long>();
    }

    /// <summary>
    /// Removes the group's neurons: their rows (and biases) from <see cref="Layer"/> and their
    /// columns from the next layer, masks and deletions with them; the layers shrink.
    /// </summary>
    public void Remove(Mlp model)
    {
        if (Neurons.Count == 0) return;
        var state = model.State;
        using var scope = NewDisposeScope();
        var layer = state[Layer];
        var next = state[Layer + 1];
        var keepRows = Enumerable.Range(0, layer.OutFeatures).Where(i => !Neurons.Contains(i)).Select(i => (long)i).ToArray();
        var keep = tensor(keepRows);
        model.Origins = model.Origins.Keeping(Layer, state.Count, layer.OutFeatures, keepRows);
        var removedRows = Neurons.OrderBy(i => i).Select(i => (long)i).ToArray();

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
            constants[k] = model.Activation.Forward(biases[k]);
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
        if (layer.Keep is { } m) layer.SetMask(NullIfAllKept(m.index_select(0, keep)), layer.MaskedValues!.index_select(0, keep).DetachFromDisposeScope());
        if (layer.Keep is null && layer.MaskedValues is not null) layer.SetMask(null, null);
        if (layer.Deleted is { } d) layer.SetDeleted(NullIfNoneDeleted(d.index_select(0, keep)));

        next.SetWeight(next.Weight.index_select(1, keep).DetachFromDisposeScope());
        if (next.Keep is { } nm) next.SetMask(NullIfAllKept(nm.index_select(1, keep)), next.MaskedValues!.index_select(1, keep).DetachFromDisposeScope());
        if (next.Keep is null && next.MaskedValues is not null) next.SetMask(null, null);
        if (next.Deleted is { } nd) next.SetDeleted(NullIfNoneDeleted(nd.index_select(1, keep)));
    }

    private static Tensor? NullIfAllKept(Tensor keep) => keep.all().item<bool>() ? null : keep.DetachFromDisposeScope();
    private static Tensor? NullIfNoneDeleted(Tensor deleted) => deleted.any().item<bool>() ? deleted.DetachFromDisposeScope() : null;
}
