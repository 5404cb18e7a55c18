namespace SparsePrune;

/// <summary>
/// The one rule for the seed of a random draw (a Random ranking) that was given none: the
/// model's next seed, fixed before the work starts so that the history can replay the draw and
/// every round of a schedule or try of a budget search draws the same.
/// </summary>
internal static class RandomSeed
{
    /// <summary><paramref name="seed"/> when given or when nothing is drawn at random; otherwise <see cref="Mlp.NextSeed"/>.</summary>
    internal static int? For(Mlp model, bool drawsAtRandom, int? seed) => seed is null && drawsAtRandom ? model.NextSeed() : seed;
}
