namespace SparsePrune;

/// <summary>How a layer multiplies at inference: Auto picks by density and batch size; Optimize-Mlp measures and fixes Dense or Sparse.</summary>
public enum LayerKernel { Auto, Dense, Sparse }
