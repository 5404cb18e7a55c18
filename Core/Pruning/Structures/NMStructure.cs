using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// N:M semi-structured sparsity: of every M consecutive weights along a row's inputs, the N
/// highest-scoring stay and the rest are deleted. A fixed pattern, not a ratio target.
/// </summary>
[Structure(PruneStructure.NM)]
internal sealed class NMStructure : PrunableStructure
{
    public override bool HasRatio => false;

    public override void Validate(Mlp model, PruningRequest request)
    {
        if (!(request.KeepN >= 1 && request.GroupM > request.KeepN && request.GroupM <= 1024))
            throw SparsePruneException.Argument("InvalidNMPattern", $"An N:M pattern needs 1 <= N < M <= 1024; got {request.KeepN}:{request.GroupM}.");
    }

    public override PruningPlan Plan(Mlp model, PruningRequest request, int[] layers, ImportanceCriterion importance, MaskedNeurons? masked)
    {
        var plan = new PruningPlan(request, new List<LayerChange>());
        using var scope = NewDisposeScope();
        var chosen = new Dictionary<int, Tensor>();
        int m = request.GroupM, keep = request.KeepN;
        foreach (var index in layers)
        {
            var layer = model.State[index];
            // Connections deleted earlier rank lowest here: they count among the M - N dropped
            // of their group, so a pattern already met deletes nothing more.
            var scores = importance.ConnectionScores(model, index);
            if (layer.Deleted is { } gone) scores = scores.masked_fill(gone, float.NegativeInfinity);
            long rows = scores.shape[0], cols = scores.shape[1];
            long padded = (cols + m - 1) / m * m;
            // Padding ranks lowest, so a short last group of g weights keeps min(g, N) of them.
            var p = padded == cols ? scores : cat(new[] { scores, full(rows, padded - cols, float.NegativeInfinity) }, 1);
            var groups = p.reshape(rows, padded / m, m);
            var (_, order) = groups.sort(dim: 2, descending: false, stable: true);
            var lowest = order.narrow(2, 0, m - keep);
            var drop = zeros_like(groups).scatter_(2, lowest, ones(lowest.shape, ScalarType.Float32));
            var chosenLayer = drop.reshape(rows, padded).narrow(1, 0, cols);
            // Connections already deleted are not deleted twice.
            if (layer.Deleted is { } d) chosenLayer = chosenLayer.masked_fill(d, 0f);
            chosen[index] = chosenLayer.contiguous();
        }
        AddConnectionChanges(model, plan, chosen);
        return plan;
    }
}
