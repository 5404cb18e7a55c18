namespace SparsePrune;

public enum SparsityMethod { Magnitude, Random }
