using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Where each neuron of a model now was in the model as created: neuron pruning shrinks layers,
/// and a lottery ticket rewinds the present neurons to their own initial weights. Immutable: a
/// change makes a new value, so a transaction's undo is putting the old one back.
/// </summary>
internal sealed record NeuronOrigins
{
    public static readonly NeuronOrigins None = new();

    /// <summary>Per layer, the original index of each of its output neurons now (null: none removed).</summary>
    public int[]?[] Layers { get; init; } = Array.Empty<int[]?>();

    /// <summary>Whether any neuron was removed (else a file need not store the origins).</summary>
    public bool Any => Layers.Any(o => o is not null);

    /// <summary>The original index of each of layer <paramref name="layer"/>'s <paramref name="outFeatures"/> neurons.</summary>
    public int[] OriginOf(int layer, int outFeatures) =>
        layer < Layers.Length && Layers[layer] is { } o ? o : Enumerable.Range(0, outFeatures).ToArray();

    /// <summary>After neuron removal: layer <paramref name="layer"/> (of <paramref name="layers"/>) keeps the neurons at <paramref name="kept"/>.</summary>
    public NeuronOrigins Keeping(int layer, int layers, int outFeatures, IReadOnlyList<long> kept)
    {
        var origins = Layers.Length == layers ? Layers.ToArray() : new int[]?[layers];
        var origin = OriginOf(layer, outFeatures);
        origins[layer] = kept.Select(i => origin[i]).ToArray();
        return this with { Layers = origins };
    }

    /// <summary>An independent copy (the arrays too).</summary>
    public NeuronOrigins Copy() => this with { Layers = Layers.Select(o => o?.ToArray()).ToArray() };

    /// <summary>
    /// Cuts full-width (original shape) parameters down to the neurons <paramref name="model"/>
    /// has now; disposes <paramref name="original"/>. The caller owns the result.
    /// </summary>
    public static List<(Tensor W, Tensor B)> SelectPresent(Mlp model, List<(Tensor W, Tensor B)> original)
    {
        var result = new List<(Tensor, Tensor)>();
        using var scope = NewDisposeScope();
        for (int i = 0; i < model.LayerCount; i++)
        {
            var rows = tensor(model.OriginOf(i).Select(v => (long)v).ToArray());
            var w = original[i].W.index_select(0, rows);
            if (i > 0) w = w.index_select(1, tensor(model.OriginOf(i - 1).Select(v => (long)v).ToArray()));
            result.Add((w.contiguous().DetachFromDisposeScope(), original[i].B.index_select(0, rows).DetachFromDisposeScope()));
        }
        foreach (var (w, b) in original) { w.Dispose(); b.Dispose(); }
        return result;
    }
}
