namespace SparsePrune;

/// <summary>
/// How a layer's product runs in training: LibTorch's dense product of the masked weights, or
/// the sparse training kernels at its present connections (<see cref="SparseTrainedLayer"/>).
/// One kind per layer, chosen by <see cref="LayerProducts"/> for each training call.
/// </summary>
internal enum TrainingProduct { Dense, Sparse }
