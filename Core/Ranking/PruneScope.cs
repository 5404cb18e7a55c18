namespace SparsePrune;

/// <summary>
/// Which weights rank against each other, for Set-Sparsity and Invoke-Pruning alike: each layer
/// on its own, all layers together, or the ERK allocation over the layers. (The name is kept from
/// when only pruning used it: scripts and saved settings type its values.)
/// </summary>
public enum PruneScope { Layer, Global, ERK }
