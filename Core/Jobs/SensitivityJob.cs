namespace SparsePrune;

/// <summary>What <c>SensitivitySettings.Resolve</c> makes of Measure-LayerSensitivity's parameters: the scan to run.</summary>
public sealed record SensitivityJob(double[] Levels, PruneStructure Structure, PruneCriterion Criterion, double ValidationFraction, int? Seed);
