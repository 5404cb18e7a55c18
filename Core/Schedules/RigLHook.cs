using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Prune-and-regrow inside a training run (RigL: Evci, Gale, Menick, Castro and Elsen 2020).
/// The layers are masked at their targets before the run; every <c>every</c> optimizer steps
/// until step <c>end</c>, each layer drops the fraction α_t of its present (unmasked) weights
/// with the smallest magnitude and regrows as many of its masked weights (never deleted ones,
/// nor the ones just dropped) where the dense gradient of that step is largest. α_t decays
/// from α₀ to 0 by cosine: α_t = α₀/2·(1 + cos(π t / end)). Regrown weights start at 0; their
/// Adam moments are 0 already, since the fused Adam zeroes a masked weight's moments every step.
/// Each layer's count of present weights never changes; masks hold between updates.
/// With rising targets (-Schedule Gradual -Regrow) each update first masks every layer to its
/// target at that step (Zhu and Gupta's ramp, ending at step <c>end</c>), then moves weights
/// the same way: the count then changes only by the ramp, never by the regrowth.
/// </summary>
internal sealed class RigLHook : ITrainingHook, IDisposable
{
    private readonly Mlp _model;
    private readonly long _end;
    private readonly int _every;
    private readonly double _alpha;
    /// <summary>Rising targets: each layer's target at a step, and the layers they cover (null: the masks start at the target).</summary>
    private readonly Func<long, double[]>? _targetsAt;
    private readonly int[] _layers;
    private List<Tensor>? _gradients;

    public RigLHook(Mlp model, long end, int every, double regrowFraction, Func<long, double[]>? targetsAt = null, int[]? layers = null)
    {
        _model = model; _end = end; _every = every; _alpha = regrowFraction;
        _targetsAt = targetsAt;
        _layers = layers ?? Array.Empty<int>();
    }

    /// <summary>Per update: the step, and per layer how many weights moved (dropped and regrown) and how many are present after it.</summary>
    public List<(long Step, long[] Moved, long[] Present)> Updates { get; } = new();

    /// <summary>α_t: the fraction of each layer's present weights that moves at step <paramref name="step"/>.</summary>
    public double FractionAt(long step) => step >= _end ? 0 : _alpha / 2 * (1 + Math.Cos(Math.PI * step / _end));

    /// <summary>Every <c>every</c> steps before the end; with rising targets the end's update too (it reaches the final target).</summary>
    public bool Due(int step) => (step % _every == 0 && step < _end) || (_targetsAt is not null && step == _end);

    /// <summary>Only the due steps' dense gradients are read.</summary>
    public bool ReadsGradients(int step) => Due(step);

    /// <summary>At a due step: the dense gradient of every weight (masked ones too), for the regrowth.</summary>
    public void AfterBackward(int step, IReadOnlyList<(Parameter W, Parameter B)> parameters)
    {
        if (!Due(step)) return;
        Release();
        using (NewDisposeScope())
            _gradients = parameters.Select(p => p.W.grad is { } g ? g.abs().detach().clone().DetachFromDisposeScope() : zeros_like(p.W).DetachFromDisposeScope()).ToList();
    }

    public void Update(int step)
    {
        if (_targetsAt is not null) RigLSchedule.MaskAtTargets(_model, _targetsAt(step), _layers);
        Move(step, _gradients ?? throw new InvalidOperationException("RigL update without the step's gradients"));
    }

    /// <summary>True once the update at the end (the final target, with rising targets) has run.</summary>
    public bool ReachedEnd => Updates.Count > 0 && Updates[^1].Step >= _end;

    /// <summary>Drops and regrows in every masked layer by the magnitudes now and <paramref name="gradients"/>.</summary>
    internal void Move(long step, IReadOnlyList<Tensor> gradients)
    {
        double fraction = FractionAt(step);
        var moved = new long[_model.LayerCount];
        for (int l = 0; l < _model.LayerCount; l++)
        {
            var layer = _model.State[l];
            if (layer.Keep is not { } keep) continue;
            using var scope = NewDisposeScope();
            long present = keep.sum().item<long>();
            long absent = layer.DenseWeights - present - layer.DeletedCount;
            long k = Math.Min((long)Math.Floor(fraction * present), absent);
            if (k <= 0) continue;
            var flatKeep = keep.flatten();
            var flatWeight = layer.Weight.flatten();
            // Lowest magnitudes among the present; ties go to the lower index (Ranking.LowestK:
            // linear time, the set a stable sort would give).
            var dropScores = flatWeight.abs().masked_fill(flatKeep.logical_not(), float.PositiveInfinity);
            var drop = Ranking.LowestK(dropScores, k).to_type(ScalarType.Bool);
            // Largest dense gradients among the masked (not deleted, not present before this update).
            var candidates = layer.Deleted is { } deleted ? flatKeep.logical_or(deleted.flatten()) : flatKeep;
            var growScores = gradients[l].flatten().neg().masked_fill(candidates, float.PositiveInfinity);
            var grow = Ranking.LowestK(growScores, k).to_type(ScalarType.Bool);
            var newKeep = flatKeep.logical_and(drop.logical_not()).logical_or(grow).reshape(keep.shape);
            // Dropped weights leave at 0 and regrown ones start at 0 (nothing is kept behind the mask).
            var weight = layer.Weight.masked_fill(newKeep.logical_not(), 0f).masked_fill(newKeep.logical_and(keep.logical_not()), 0f);
            layer.SetWeight(weight.DetachFromDisposeScope());
            layer.SetMask(newKeep.DetachFromDisposeScope(), zeros_like(weight).DetachFromDisposeScope());
            moved[l] = k;
        }
        Updates.Add((step, moved, _model.State.Select(l => l.Keep is { } m ? m.sum().item<long>() : l.PresentWeights).ToArray()));
    }

    private void Release()
    {
        if (_gradients is null) return;
        foreach (var g in _gradients) g.Dispose();
        _gradients = null;
    }

    public void Dispose() => Release();
}
