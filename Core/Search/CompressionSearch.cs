using System.Diagnostics;
using System.Globalization;

namespace SparsePrune;

/// <summary>
/// Compress-Mlp: the smallest (or fastest) model whose validation metric stays within a budget,
/// found by trying candidates on copies of the model. Every candidate trains on the training split
/// less a validation split carved from it (never the test split) and is judged there against the
/// reference, the model as given trained as long on the same rows, by the paired bound
/// Invoke-Pruning's budget uses. The stages:
/// <list type="number">
/// <item>Connections: gradual pruning with drop-and-regrow (ERK allocation, the accuracy bench's
/// recipe) to a ladder of sparsities, bisected for the highest within the budget.</item>
/// <item>Neurons (latency and operations): the same for hidden neurons, which leaves dense layers
/// that are smaller rather than sparse.</item>
/// <item>Bits (file size): k-means weight sharing with fine-tuning of the shared values on the two
/// sparsest pruned candidates within the budget, from 3 bits down to 2 or up to 6.</item>
/// </list>
/// The best candidate within the budget by the objective becomes the model, its own steps and this
/// search in its history; a stop (Ctrl+C) or the time limit keeps the best found so far. Candidates
/// are made by a <see cref="CompressionCandidateMaker"/> (this session, or sweep workers) from
/// their <see cref="CompressionCandidateSpec"/>s and judged here, in the order of the stages.
/// </summary>
public static class CompressionSearch
{
    /// <summary>Connection sparsities tried, bisected (the search starts in the middle).</summary>
    internal static readonly double[] ConnectionLevels = { 0.5, 0.75, 0.9, 0.95, 0.97, 0.98, 0.985, 0.99, 0.995 };
    /// <summary>Shares of the hidden neurons removed, bisected.</summary>
    internal static readonly double[] NeuronLevels = { 0.25, 0.5, 0.7, 0.8, 0.9 };
    /// <summary>k-means bits: 3 first (the best trade in the compression bench), then down to 2 when it holds, else up.</summary>
    internal const int FirstBits = 3, FewestBits = 2, MostBits = 6;
    /// <summary>Pruned candidates that weight sharing is tried on: the sparsest within the budget and the next.</summary>
    internal const int SharingBases = 2;

    /// <summary>Runs the search; the model becomes the best candidate, or stays as it was when none is within the budget.</summary>
    /// <param name="warn">Called with each warning (no candidate within the budget, the time limit reached).</param>
    /// <param name="tried">Called with each candidate as it is judged (what is known if the search is stopped).</param>
    public static CompressionSearchResult Run(Mlp model, Dataset? data, CompressionOptions options,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default, Action<string>? warn = null, Action<CompressionCandidate>? tried = null) =>
        Run(model, data, options, new SessionCandidateMaker(), progress, cancel, warn, tried);

    /// <summary>As <see cref="Run(Mlp, Dataset?, CompressionOptions, Action{WorkProgress}?, CancellationToken, Action{string}?, Action{CompressionCandidate}?)"/>, the candidates made by <paramref name="maker"/> (which the caller disposes).</summary>
    internal static CompressionSearchResult Run(Mlp model, Dataset? data, CompressionOptions options, CompressionCandidateMaker maker,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default, Action<string>? warn = null, Action<CompressionCandidate>? tried = null)
    {
        options.Validate(model, data);
        return ModelTransaction.RecordingStop(model, () => new CompressionRun(model, data!, options, progress, cancel, warn, tried, maker).Execute());
    }

    /// <summary>The stages a search of <paramref name="objective"/> runs, for -WhatIf and the history.</summary>
    public static string DescribeStages(CompressionObjective objective) => objective == CompressionObjective.FileSize
        ? $"connection sparsity {Levels(ConnectionLevels)}, then k-means {FewestBits} to {MostBits} bits on the two sparsest within the budget"
        : $"connection sparsity {Levels(ConnectionLevels)} and hidden neurons removed {Levels(NeuronLevels)}";

    private static string Levels(double[] levels) => string.Join("/", levels.Select(l => l.ToString("0.###", CultureInfo.InvariantCulture)));
}
