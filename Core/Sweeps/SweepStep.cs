namespace SparsePrune;

/// <summary>Which cmdlet of a sweep point a parameter is given to.</summary>
public enum SweepStep
{
    /// <summary>Invoke-Pruning (runs first).</summary>
    Pruning,
    /// <summary>Invoke-Quantization (runs after pruning).</summary>
    Quantization,
}
