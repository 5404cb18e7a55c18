namespace SparsePrune;

public enum LayerStorage { Dense, Sparse }
