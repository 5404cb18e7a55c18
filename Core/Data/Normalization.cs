namespace SparsePrune;

public enum Normalization { Standard, MinMax, None }
