namespace SparsePrune;

/// <summary>What Measure-Mlp measures, as MeasurementSettings.Resolve decided it: the metric (with single-row latency) or, with <see cref="Latency"/>, batch latency.</summary>
public sealed record MeasurementJob(bool Latency, int Repeat, int[] BatchSizes, int Warmup);
