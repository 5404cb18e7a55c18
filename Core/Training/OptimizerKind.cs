namespace SparsePrune;

public enum OptimizerKind { SGD, Adam }
