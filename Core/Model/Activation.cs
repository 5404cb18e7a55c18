namespace SparsePrune;

public enum Activation { ReLU, Tanh, Sigmoid, GELU, LeakyReLU }
