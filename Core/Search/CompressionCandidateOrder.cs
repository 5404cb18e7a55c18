namespace SparsePrune;

/// <summary>
/// A candidate for a <see cref="CompressionCandidateMaker"/> to make: its spec, and the model its
/// spec's Basis made (null for a candidate that starts from the model as given). Bases travel as
/// models (to a worker: as bytes), never remade from their specs: a base is a pruned candidate that
/// took a whole training to make, while its file is a few kilobytes, and the session holds every
/// base, since a later stage starts only from candidates it has judged.
/// </summary>
internal sealed record CompressionCandidateOrder(CompressionCandidateSpec Spec, Mlp? Basis);
