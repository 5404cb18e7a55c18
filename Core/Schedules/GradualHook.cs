using TorchSharp.Modules;

namespace SparsePrune;

/// <summary>
/// Gradual pruning inside a training run: raises the target on Zhu and Gupta's ramp at every
/// update. A criterion scored from gradients (Taylor, Fisher) observes the run's own batches
/// between updates; neuron pruning masks neurons until the run ends (<see cref="NeuronApplication.MaskDuringTraining"/>).
/// </summary>
internal sealed class GradualHook : ITrainingHook, IDisposable
{
    private readonly Mlp _model;
    private readonly TargetTrack _track;
    private readonly long _ramp;
    private readonly int _every;
    /// <summary>The criterion when it learns from the run's gradients; null for criteria scored from the weights alone.</summary>
    private readonly GradientCriterion? _gradients;
    /// <summary>Neuron pruning: neurons removed in effect during training, removed for real at its end.</summary>
    private readonly MaskedNeurons? _masked;

    public GradualHook(Mlp model, TargetTrack track, long ramp, int every)
    {
        _model = model; _track = track; _ramp = ramp; _every = every;
        var final = track.At((_, f) => f);
        if (ImportanceCriterion.ScoresFromData(final.Criterion))
            _gradients = (GradientCriterion)ImportanceCriterion.Create(final.Criterion, final.Seed ?? 0);
        // Masking keeps the shapes, so Adam's moment estimates survive every update.
        if (final.Structure == PruneStructure.Neuron) _masked = new MaskedNeurons(model.LayerCount - 1);
    }

    /// <summary>At the end of the run: the masked neurons leave the model.</summary>
    public void RemoveMaskedNeurons() => _masked?.RemoveFrom(_model);

    public List<double> Targets { get; } = new();
    /// <summary>True once the update at the ramp's end (the final target) has run.</summary>
    public bool ReachedFinal { get; private set; }
    /// <summary>The last update's plan held layers at -MaxLayerSparsity: its note (null: none held).</summary>
    public string? CapNote { get; private set; }

    public void AfterBackward(int step, IReadOnlyList<(Parameter W, Parameter B)> parameters)
    {
        if (_gradients is null || step > _ramp) return;
        _gradients.Observe(parameters.Select(p => (TorchSharp.torch.Tensor)p.W).ToList(), parameters.Select(p => p.W.grad).ToList());
    }

    /// <summary>A criterion scored from gradients reads every step's until the ramp's end; other criteria none.</summary>
    public bool ReadsGradients(int step) => _gradients is not null && step <= _ramp;

    public bool Due(int step) => step <= _ramp && (step % _every == 0 || step == _ramp);

    public void Update(int step) => PruneTo(step);

    /// <summary>Prunes to the target of optimizer step <paramref name="step"/>.</summary>
    public void PruneTo(long step)
    {
        var request = _track.At((s, f) => PruningScheduler.GradualTarget(s, f, step, 0, _ramp));
        Targets.Add(request.Ratio);
        ReachedFinal |= step >= _ramp;
        if (_gradients is { HasObservations: false }) _gradients.StartEmpty(_model);
        using (var plan = Pruner.Plan(_model, request, null, _gradients, _masked))
        {
            Pruner.ApplyToLayers(_model, plan);
            CapNote = Pruner.CapNote(plan);
            if (_masked is not null)
                for (int l = 0; l < plan.NewlyMasked.Count; l++) _masked.Add(l, plan.NewlyMasked[l]);
        }
        // Scores start again after every update (and take the new shapes after neuron removal).
        _gradients?.Reset();
    }

    public void Dispose() => _gradients?.Dispose();
}
