namespace SparsePrune;

public enum PruneCriterion { L1, L2, Random, Taylor, Fisher }
