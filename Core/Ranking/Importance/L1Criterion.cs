using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Magnitude, L1: a connection by |w|, a neuron by the L1 norm of its incoming row (PyTorch's <c>ln_structured(n=1, dim=0)</c>).</summary>
[Criterion(PruneCriterion.L1, "Magnitude")]
internal sealed class L1Criterion : ImportanceCriterion
{
    public override Tensor ConnectionScores(Mlp model, int layer) => model.State[layer].Weight.abs();

    public override Tensor? UnmaskedConnectionScores(Mlp model, int layer) => null;

    public override double[] NeuronScores(Mlp model, int layer)
    {
        using var scope = NewDisposeScope();
        return model.State[layer].Weight.abs().sum(1).to_type(ScalarType.Float64).data<double>().ToArray();
    }
}
