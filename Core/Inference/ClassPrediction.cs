namespace SparsePrune;

/// <summary>A classifier's answer for one input row.</summary>
public sealed class ClassPrediction
{
    public long Row { get; init; }
    public string Label { get; init; } = "";
    public int ClassIndex { get; init; }
    public double Probability { get; init; }
    public double[] Probabilities { get; init; } = Array.Empty<double>();
    public override string ToString() => Label;
}
