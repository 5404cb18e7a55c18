using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// How much each connection or neuron matters, by criterion: |w| (L1 and L2 agree for one
/// weight), a neuron's L1 or L2 row norm, seeded random scores, or first-order Taylor scores
/// |w · ∂L/∂w| accumulated over batches of data (a neuron's Taylor score sums its row).
/// Lower scores are pruned first.
/// </summary>
internal static class Importance
{
    /// <summary>Connection scores of one layer, shaped like its weight.</summary>
    public static Tensor Connections(LayerState layer, PruneCriterion criterion, Random rng, Tensor? taylor) => criterion switch
    {
        PruneCriterion.Random => Ranking.RandomScores(layer.Weight.shape, rng),
        PruneCriterion.Taylor => taylor ?? throw new InvalidOperationException("Taylor scores were not computed"),
        _ => layer.Weight.abs(),
    };

    /// <summary>One score per output neuron of a layer.</summary>
    public static double[] Neurons(LayerState layer, PruneCriterion criterion, Random rng, Tensor? taylor)
    {
        using var scope = NewDisposeScope();
        var w = layer.Weight;
        return criterion switch
        {
            PruneCriterion.L1 => w.abs().sum(1).to_type(ScalarType.Float64).data<double>().ToArray(),
            PruneCriterion.L2 => w.pow(2).sum(1).sqrt().to_type(ScalarType.Float64).data<double>().ToArray(),
            PruneCriterion.Taylor => (taylor ?? throw new InvalidOperationException("Taylor scores were not computed"))
                .to_type(ScalarType.Float64).sum(1).data<double>().ToArray(),
            _ => Enumerable.Range(0, layer.OutFeatures).Select(_ => rng.NextDouble()).ToArray(),
        };
    }

    /// <summary>
    /// First-order Taylor scores of every weight: Σ over batches of |w ⊙ ∂L/∂w|, with L the
    /// batch's mean loss, over the training split of <paramref name="data"/> in order (no
    /// shuffle, so the scores are repeatable). One tensor per layer; the caller owns them.
    /// </summary>
    public static List<Tensor> Taylor(Mlp model, Dataset data, int batchSize, CancellationToken cancel = default)
    {
        Evaluator.CheckCompatible(model, data);
        if (data.TrainCount == 0) throw SparsePruneException.BadData("EmptyDataset", $"The data set '{data.Name}' has no training rows to compute Taylor scores on.");
        var state = model.State;
        var device = model.TorchDevice;
        var x = data.InputsFor(model, data.TrainX);
        int f = data.Features, n = data.TrainCount;
        bool classification = data.Task == TaskKind.Classification;
        var sums = state.Select(l => zeros_like(l.Weight).DetachFromDisposeScope()).ToList();
        try
        {
            for (int start = 0; start < n; start += batchSize)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int count = Math.Min(batchSize, n - start);
                var xb = NativeCopy.Floats(x.AsSpan((int)((long)start * f), count * f), new long[] { count, f }).to(device);
                var yb = tensor(data.TrainY.AsSpan(start, count).ToArray()).to(device);
                var parameters = state.Select(l => (W: l.Weight.detach().requires_grad_(true), B: l.Bias.detach().requires_grad_(true))).ToList();
                var output = model.Forward(xb, parameters.Select(p => (p.W, p.B)).ToList());
                var loss = classification
                    ? nn.functional.cross_entropy(output, yb.to_type(ScalarType.Int64))
                    : nn.functional.mse_loss(output.squeeze(1), yb);
                var grads = autograd.grad(new[] { loss }, parameters.Select(p => p.W).ToList());
                using var noGrad = no_grad();
                for (int l = 0; l < state.Count; l++) sums[l].add_((state[l].Weight * grads[l]).abs());
            }
            return sums;
        }
        catch
        {
            foreach (var s in sums) s.Dispose();
            throw;
        }
    }
}
