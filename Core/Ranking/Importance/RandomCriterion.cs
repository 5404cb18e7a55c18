using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Seeded uniform random scores: the baseline every other criterion should beat. Scores are
/// drawn layer by layer in index order, so one seed gives one ranking.
/// </summary>
[Criterion(PruneCriterion.Random)]
internal sealed class RandomCriterion : ImportanceCriterion
{
    public override Tensor ConnectionScores(Mlp model, int layer) => Ranking.RandomScores(model.State[layer].Weight.shape, Random);

    public override Tensor? UnmaskedConnectionScores(Mlp model, int layer) => ConnectionScores(model, layer);

    public override double[] NeuronScores(Mlp model, int layer) =>
        Enumerable.Range(0, model.State[layer].OutFeatures).Select(_ => Random.NextDouble()).ToArray();
}
