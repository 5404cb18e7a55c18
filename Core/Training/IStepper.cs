using System.Runtime.Intrinsics;

namespace SparsePrune;

/// <summary>What the trainer needs of an optimizer: a step at a learning rate, zeroed gradients.</summary>
internal interface IStepper : IDisposable
{
    void ZeroGrad();
    void Step(double learningRate);
}
