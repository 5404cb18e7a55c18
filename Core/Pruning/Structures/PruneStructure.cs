namespace SparsePrune;

public enum PruneStructure { Connection, Neuron, NM }
