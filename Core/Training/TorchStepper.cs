using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>TorchSharp's own optimizer (SGD, or Adam on tensors the fused path cannot reach).</summary>
internal sealed class TorchStepper : IStepper
{
    private readonly optim.Optimizer _optimizer;
    public TorchStepper(optim.Optimizer optimizer) => _optimizer = optimizer;
    public void ZeroGrad() => _optimizer.zero_grad();

    public void Step(double learningRate)
    {
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _optimizer.step();
    }

    public void Dispose() => _optimizer.Dispose();
}
