using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Chooses, in groups of a model's layers ranked together, the lowest-scoring weights (or those
/// below a threshold) and writes one keep mask per layer with the counts a plan reports. Scores
/// are a criterion's, or null for the magnitude of the weights with the masks lifted (read in
/// place). Deleted connections are never chosen. Two paths with the same result: the native
/// radix select, and the torch reference that any device runs and the tests measure against.
/// </summary>
internal static class LayerSelection
{
    /// <summary>The radix select over the tensors' own memory; null when some tensor is not a contiguous CPU tensor of its dtype.</summary>
    public static NativeSelect.LayerCounts[]? Native(Mlp model, int[] layers, List<NativeSelect.Group> groups, List<Tensor>? scores, List<Tensor> keep)
    {
        if (!RawTensor.Available) return null;
        var views = new LayerView[layers.Length];
        var keepOut = new nint[layers.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = model.State[layers[i]];
            long n = layer.DenseWeights;
            if (n == 0) return null;
            var view = new LayerView
            {
                Weight = RawTensor.Address(layer.Weight, ScalarType.Float32, n),
                MaskedValues = RawTensor.Address(layer.MaskedValues, ScalarType.Float32, n),
                Deleted = RawTensor.Address(layer.Deleted, ScalarType.Bool, n),
                Keep = RawTensor.Address(layer.Keep, ScalarType.Bool, n),
                Scores = RawTensor.Address(scores?[i], ScalarType.Float32, n),
                Count = n,
            };
            keepOut[i] = RawTensor.Address(keep[i], ScalarType.Bool, n);
            if (view.Weight == 0 || keepOut[i] == 0 || (layer.MaskedValues is not null && view.MaskedValues == 0) || (layer.Deleted is not null && view.Deleted == 0)
                || (layer.Keep is not null && view.Keep == 0) || (scores is not null && view.Scores == 0)) return null;
            views[i] = view;
        }
        var result = NativeSelect.Select(views, groups, keepOut, get_num_threads());
        // The tensors whose memory was read must outlive the reads.
        GC.KeepAlive(scores);
        GC.KeepAlive(keep);
        return result;
    }

    /// <summary>
    /// The reference path (any device, and the tests' yardstick): scores as tensors, cat +
    /// kthvalue (<see cref="Ranking.LowestK"/>), counts with tensor ops.
    /// </summary>
    public static NativeSelect.LayerCounts[] Reference(Mlp model, int[] layers, List<NativeSelect.Group> groups, List<Tensor>? scores, List<Tensor> keep)
    {
        using var scope = NewDisposeScope();
        var state = model.State;
        var underlying = layers.Select(l => state[l].Underlying()).ToList();
        // Deleted connections are out of scope: +inf never ranks among the lowest.
        var ranked = new List<Tensor>();
        for (int i = 0; i < layers.Length; i++)
        {
            var s = scores?[i] ?? underlying[i].abs();
            if (state[layers[i]].Deleted is { } d) s = s.masked_fill(d, float.PositiveInfinity);
            ranked.Add(s);
        }
        foreach (var group in groups)
        {
            List<Tensor> groupKeep;
            if (group.Threshold is { } t)
                groupKeep = group.Views.Select(i => ranked[i].ge(t)).ToList();
            else
            {
                var chosen = Ranking.LowestK(cat(group.Views.Select(i => ranked[i].reshape(-1)).ToList(), 0), group.K);
                groupKeep = Ranking.Split(chosen, group.Views.Select(i => ranked[i].shape).ToList()).Select(c => c.eq(0f)).ToList();
            }
            for (int j = 0; j < group.Views.Length; j++) keep[group.Views[j]].copy_(groupKeep[j]);
        }
        var counts = new NativeSelect.LayerCounts[layers.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = state[layers[i]];
            long present = layer.PresentWeights;
            var current = layer.Keep ?? ones_like(keep[i]);
            counts[i] = new NativeSelect.LayerCounts(
                Masked: keep[i].logical_not().count_nonzero().item<long>(),
                Changed: current.ne(keep[i]).count_nonzero().item<long>(),
                ZeroBefore: present - layer.NonZeroWeights,
                ZeroAfter: present - underlying[i].masked_fill(keep[i].logical_not(), 0f).count_nonzero().item<long>());
        }
        return counts;
    }
}
