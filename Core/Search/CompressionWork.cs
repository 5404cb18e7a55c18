namespace SparsePrune;

/// <summary>
/// What a <see cref="CompressionCandidateMaker"/> makes every candidate of one search from: the
/// model as given (its baseline taken), the data set and the validation split carved from it, the
/// recipe, the candidates' training options and the teacher they distil from (or none).
/// </summary>
internal sealed record CompressionWork(Mlp Origin, Dataset Data, Dataset Validation, CompressionRecipe Recipe, TrainingOptions Training, Mlp? Teacher);
