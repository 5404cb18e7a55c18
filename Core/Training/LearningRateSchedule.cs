namespace SparsePrune;

public enum LearningRateSchedule { Constant, Cosine }
