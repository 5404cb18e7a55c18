namespace SparsePrune;

/// <summary>A regressor's answer for one input row.</summary>
public sealed class RegressionPrediction
{
    public long Row { get; init; }
    public double Value { get; init; }
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
