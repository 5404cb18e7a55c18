namespace SparsePrune;

public enum PruneScope { Layer, Global, ERK }
