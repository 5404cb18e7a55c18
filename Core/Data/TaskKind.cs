namespace SparsePrune;

public enum TaskKind { Classification, Regression }
