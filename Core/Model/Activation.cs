namespace SparsePrune;

public enum Activation { ReLU, Tanh, Sigmoid, GELU, LeakyReLU }
public enum TaskKind { Classification, Regression }
public enum LayerStorage { Dense, Sparse }
/// <summary>How a layer multiplies at inference: Auto picks by density and batch size; Optimize-Mlp measures and fixes Dense or Sparse.</summary>
public enum LayerKernel { Auto, Dense, Sparse }
public enum Normalization { Standard, MinMax, None }
public enum OptimizerKind { SGD, Adam }
public enum PruneScope { Layer, Global, ERK }
public enum SparsityMethod { Magnitude, Random }
public enum PruneStructure { Connection, Neuron, NM }
public enum PruneCriterion { L1, L2, Random, Taylor }
public enum PruneSchedule { OneShot, Iterative, Gradual, LotteryTicket }
public enum LearningRateSchedule { Constant, Cosine }
