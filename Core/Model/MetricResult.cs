using System.Diagnostics;

namespace SparsePrune;

/// <summary>A metric value: Accuracy (classification, higher is better) or Loss (regression MSE).</summary>
public sealed record MetricResult(string Name, double Value);
