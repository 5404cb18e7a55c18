using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A criterion scored from gradients of the loss: it owns one running sum per layer, Σ over
/// batches of a per-weight term of the weight and the batch's gradient (<see cref="Term"/>).
/// The sums come from passes over a data set (<see cref="ObserveData"/>) or from the batches of
/// a training run that prunes as it goes (<see cref="Observe"/>, gradual pruning).
/// </summary>
internal abstract class GradientCriterion : ImportanceCriterion
{
    private List<Tensor>? _sums;

    /// <summary>One batch's contribution for each weight, from the weights and the gradient of the batch's mean loss.</summary>
    protected abstract Tensor Term(Tensor weight, Tensor gradient);

    /// <summary>True once any batch was observed (or <see cref="StartEmpty"/> ran).</summary>
    public bool HasObservations => _sums is not null;

    /// <summary>The running sums, one per layer, shaped like its weight.</summary>
    protected IReadOnlyList<Tensor> Sums => _sums ?? throw new InvalidOperationException("No gradients were observed for these scores.");

    /// <summary>Adds one batch: each layer's weights and the gradient of the batch's mean loss (null: no gradient, adds nothing).</summary>
    public void Observe(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor?> gradients)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _sums ??= weights.Select(w => zeros_like(w).DetachFromDisposeScope()).ToList();
        for (int l = 0; l < weights.Count; l++)
            if (gradients[l] is { } g) _sums[l].add_(Term(weights[l], g));
    }

    /// <summary>Zero sums shaped like the model's layers: scores before any batch was seen.</summary>
    public void StartEmpty(Mlp model)
    {
        Reset();
        _sums = model.State.Select(l => zeros_like(l.Weight).DetachFromDisposeScope()).ToList();
    }

    /// <summary>
    /// Sums over the training split of <paramref name="data"/> in order (no shuffle, so the
    /// scores are repeatable), in batches of <paramref name="batchSize"/>. <paramref name="liftMasks"/>:
    /// the passes run on the weights with the masks lifted (Set-Sparsity ranks as if no mask were
    /// there), so a masked weight has its own term rather than one of a zero weight.
    /// </summary>
    public void ObserveData(Mlp model, Dataset data, int batchSize, CancellationToken cancel = default, bool liftMasks = false)
    {
        ModelInputs.CheckCompatible(model, data);
        if (data.TrainCount == 0) throw SparsePruneException.BadData("EmptyDataset", $"The data set '{data.Name}' has no training rows to compute gradient scores on.");
        Reset();
        var state = model.State;
        var device = model.TorchDevice;
        var x = ModelInputs.For(model, data, data.TrainX);
        int f = data.Features, n = data.TrainCount;
        bool classification = data.Task == TaskKind.Classification;
        using var lifted = NewDisposeScope();
        var weights = state.Select(l => liftMasks ? l.Underlying() : l.Weight).ToList();
        try
        {
            for (int start = 0; start < n; start += batchSize)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int count = Math.Min(batchSize, n - start);
                var xb = NativeCopy.Floats(x.AsSpan((int)((long)start * f), count * f), new long[] { count, f }).to(device);
                var yb = tensor(data.TrainY.AsSpan(start, count).ToArray()).to(device);
                var parameters = state.Select((l, i) => (W: weights[i].detach().requires_grad_(true), B: l.Bias.detach().requires_grad_(true))).ToList();
                var output = model.Forward(xb, parameters.Select(p => (p.W, p.B)).ToList());
                var loss = classification
                    ? nn.functional.cross_entropy(output, yb.to_type(ScalarType.Int64))
                    : nn.functional.mse_loss(output.squeeze(1), yb);
                var grads = autograd.grad(new[] { loss }, parameters.Select(p => p.W).ToList());
                Observe(weights, grads.Cast<Tensor?>().ToList());
            }
        }
        catch
        {
            Reset();
            throw;
        }
    }

    /// <summary>Forgets every observation (gradual pruning starts again after each update).</summary>
    public void Reset()
    {
        if (_sums is null) return;
        foreach (var s in _sums) s.Dispose();
        _sums = null;
    }

    public override void Dispose() => Reset();
}
