using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// First-order Taylor (Molchanov et al. 2017/2019): a connection by Σ over batches of
/// |w ⊙ ∂L/∂w|, a neuron by the sum of its incoming row's scores. Weights that are zero now
/// (masked) score 0 whatever they contributed before.
/// </summary>
[Criterion(PruneCriterion.Taylor)]
internal sealed class TaylorCriterion : GradientCriterion
{
    protected override Tensor Term(Tensor weight, Tensor gradient) => (weight * gradient).abs();

    public override Tensor ConnectionScores(Mlp model, int layer) =>
        Sums[layer].masked_fill(model.State[layer].Weight.eq(0f), 0f);

    /// <summary>The sums as observed with the masks lifted (<see cref="GradientCriterion.ObserveData"/>'s liftMasks): no weight scores 0 for being masked now.</summary>
    public override Tensor? UnmaskedConnectionScores(Mlp model, int layer) => Sums[layer].clone();

    public override double[] NeuronScores(Mlp model, int layer)
    {
        using var scope = NewDisposeScope();
        return Sums[layer].to_type(ScalarType.Float64).sum(1).data<double>().ToArray();
    }
}
