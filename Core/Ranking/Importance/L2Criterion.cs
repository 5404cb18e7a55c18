using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Magnitude, L2: a connection by |w| (one weight's L1 and L2 agree), a neuron by the L2 norm of its incoming row.</summary>
[Criterion(PruneCriterion.L2)]
internal sealed class L2Criterion : ImportanceCriterion
{
    public override Tensor ConnectionScores(Mlp model, int layer) => model.State[layer].Weight.abs();

    public override Tensor? UnmaskedConnectionScores(Mlp model, int layer) => null;

    public override double[] NeuronScores(Mlp model, int layer)
    {
        using var scope = NewDisposeScope();
        return model.State[layer].Weight.pow(2).sum(1).sqrt().to_type(ScalarType.Float64).data<double>().ToArray();
    }
}
