using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Optimal Brain Damage's saliency (LeCun, Denker &amp; Solla 1990), ½·w²·H_ii, with the Hessian's
/// diagonal approximated by the empirical Fisher: Σ over batches of (∂L/∂w)², L the batch's mean
/// loss. A neuron scores the sum over the weights that go with it: its incoming row and its
/// outgoing column (the neuron structure removes them together).
/// </summary>
[Criterion(PruneCriterion.Fisher)]
internal sealed class FisherCriterion : GradientCriterion
{
    protected override Tensor Term(Tensor weight, Tensor gradient) => gradient.square();

    public override Tensor ConnectionScores(Mlp model, int layer) => model.State[layer].Weight.square().mul(Sums[layer]).mul(0.5);

    public override Tensor? UnmaskedConnectionScores(Mlp model, int layer)
    {
        using var scope = NewDisposeScope();
        return model.State[layer].Underlying().square().mul(Sums[layer]).mul(0.5).MoveToOuterDisposeScope();
    }

    public override double[] NeuronScores(Mlp model, int layer)
    {
        using var scope = NewDisposeScope();
        var rows = ConnectionScores(model, layer).to_type(ScalarType.Float64).sum(1);
        // dim: named: a literal 0 converts to ScalarType, and sum(ScalarType) would total the tensor.
        var columns = ConnectionScores(model, layer + 1).to_type(ScalarType.Float64).sum(dim: 0);
        return (rows + columns).data<double>().ToArray();
    }
}
