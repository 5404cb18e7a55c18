using System.Globalization;

namespace SparsePrune;

/// <summary>
/// One model Compress-Mlp tried: what was done to a copy of the model, what its file, latency and
/// operations came to, and its metric on the validation split against the reference's. What
/// <c>Compress-Mlp -PassThru</c> writes, one per candidate, so that Export-Csv keeps the search and
/// Export-CompressionReport draws its trade-off.
/// </summary>
public sealed class CompressionCandidate
{
    /// <summary>1 for the first candidate tried, in the order they were tried.</summary>
    public int Candidate { get; init; }
    /// <summary>What the candidate varied: Sparsity (connections), Neurons, or Bits (weight sharing on a pruned candidate).</summary>
    public string Stage { get; init; } = "";
    /// <summary>Its settings as one line; each is a step a user can repeat by hand (Invoke-Pruning, Invoke-Quantization).</summary>
    public string Settings { get; init; } = "";
    /// <summary>The share of the baseline's weights deleted (connections, or with the neurons removed).</summary>
    public double PruningRatio { get; init; }
    /// <summary>Share of the hidden neurons removed.</summary>
    public double NeuronRatio { get; init; }
    /// <summary>Bits of the k-means codebook (null: float32 weights).</summary>
    public int? Bits { get; init; }
    public long Weights { get; init; }
    public long Parameters { get; init; }
    /// <summary>The bytes Export-Mlp writes for it.</summary>
    public long FileBytes { get; init; }
    /// <summary>The dense model's file over this one.</summary>
    public double CompressionRatio { get; init; }
    /// <summary>Median forward-pass time at the search's latency batch size, milliseconds (measured when latency is the objective).</summary>
    public double? LatencyMs { get; init; }
    public long Flops { get; init; }
    public string MetricName { get; init; } = "";
    /// <summary>The reference's validation metric: the model as given, trained as long on the same rows.</summary>
    public double ReferenceMetric { get; init; }
    /// <summary>This candidate's validation metric.</summary>
    public double ValidationMetric { get; init; }
    /// <summary>Drop in accuracy (or relative rise of the loss) against the reference, measured.</summary>
    public double Cost { get; init; }
    /// <summary>The one-sided upper bound on <see cref="Cost"/> at the search's confidence; within budget when the bound is.</summary>
    public double Bound { get; init; }
    public bool WithinBudget { get; init; }
    /// <summary>The candidate the model became.</summary>
    public bool Chosen { get; internal set; }
    /// <summary>Wall-clock seconds the candidate took (training, file and measurement).</summary>
    public double Seconds { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"#{Candidate} {Settings}: {FileBytes} B, {Flops} flops, {MetricName} {ValidationMetric:0.####} (cost {Cost:0.####}, bound {Bound:0.####}, {(WithinBudget ? "within" : "over")})");
}
