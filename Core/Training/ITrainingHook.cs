using TorchSharp.Modules;

namespace SparsePrune;

/// <summary>
/// Lets a pruning schedule act inside a training run (gradual pruning): it sees each step's
/// parameters after the backward pass, and at the steps it is due it may change the model's
/// layers, whose current values the trainer has written back first; the trainer then reloads
/// them (and rebuilds the optimizer when a shape changed).
/// </summary>
internal interface ITrainingHook
{
    /// <summary>After the backward pass of step <paramref name="step"/> (1-based), before the optimizer step.</summary>
    void AfterBackward(int step, IReadOnlyList<(Parameter W, Parameter B)> parameters);
    /// <summary>
    /// True when <see cref="AfterBackward"/> of step <paramref name="step"/> reads the dense weights
    /// and gradients (layers trained sparse compute them only then). By default every step.
    /// </summary>
    bool ReadsGradients(int step) => true;
    /// <summary>True when <see cref="Update"/> must run after optimizer step <paramref name="step"/>.</summary>
    bool Due(int step);
    void Update(int step);
}
