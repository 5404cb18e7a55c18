namespace SparsePrune;

/// <summary>
/// The neurons that pruning inside a training run has masked so far, per hidden layer
/// (<see cref="NeuronApplication.MaskDuringTraining"/>): they count as removed, are not chosen
/// again, and leave the model for real at the end of the run (<see cref="RemoveFrom"/>).
/// </summary>
internal sealed class MaskedNeurons
{
    private readonly List<HashSet<int>> _byLayer;

    public MaskedNeurons(int hiddenLayers) => _byLayer = Enumerable.Range(0, hiddenLayers).Select(_ => new HashSet<int>()).ToList();

    public MaskedNeurons(IEnumerable<IEnumerable<int>> byLayer) => _byLayer = byLayer.Select(s => s.ToHashSet()).ToList();

    public int HiddenLayers => _byLayer.Count;

    public IReadOnlySet<int> In(int layer) => _byLayer[layer];

    public bool Contains(int layer, int neuron) => _byLayer[layer].Contains(neuron);

    public void Add(int layer, IEnumerable<int> neurons) => _byLayer[layer].UnionWith(neurons);

    /// <summary>Removes every masked neuron from the model (the layers shrink) and forgets them.</summary>
    public void RemoveFrom(Mlp model)
    {
        // In layer order, as every removal goes: a later layer's rows are judged (all zero or not)
        // after the columns of the neurons removed before them are gone.
        for (int l = 0; l < _byLayer.Count; l++)
            if (_byLayer[l].Count > 0)
                new NeuronGroup(l, _byLayer[l]).Remove(model);
        foreach (var s in _byLayer) s.Clear();
    }
}
