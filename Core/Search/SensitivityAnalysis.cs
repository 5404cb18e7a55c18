using System.Globalization;

namespace SparsePrune;

/// <summary>
/// How much each layer tolerates: every layer is pruned alone, on a copy, to each level, and
/// scored on a validation split carved from the training split. The model is not changed.
/// </summary>
public static class SensitivityAnalysis
{
    /// <summary>The levels a scan prunes each layer to when given none: from half to nearly all.</summary>
    public static IReadOnlyList<double> DefaultLevels { get; } = new[] { 0.5, 0.8, 0.9, 0.95 };
    /// <summary>The share of the training split each layer's drop is measured on.</summary>
    public const double DefaultValidationFraction = 0.1;

    public static IReadOnlyList<LayerSensitivity> Measure(Mlp model, Dataset data, IReadOnlyList<double> levels,
        PruneStructure structure = PruneStructure.Connection, PruneCriterion criterion = PruneCriterion.L1,
        double validationFraction = DefaultValidationFraction, int? seed = null, Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        if (structure == PruneStructure.NM)
            throw SparsePruneException.Argument("InvalidStructure", "Measure-LayerSensitivity prunes each layer to a level: use -Structure Connection or Neuron (an N:M pattern has no level).");
        if (levels.Count == 0 || levels.Any(l => !(l >= 0 && l < 1)))
            throw SparsePruneException.Argument("InvalidSparsity", $"Every -Ratio level must be at least 0 and below 1; got {string.Join(",", levels.Select(l => l.ToString(CultureInfo.InvariantCulture)))}.");
        ModelInputs.CheckCompatible(model, data);
        if (structure == PruneStructure.Neuron && model.LayerCount < 2)
            throw SparsePruneException.Operation("NoHiddenNeurons", $"Model '{model.Name}' has no hidden layer, so it has no neuron to prune: output neurons are never pruned.");
        var validation = data.SplitValidation(validationFraction, seed ?? model.NextSeed());
        var baseline = Evaluator.Evaluate(model, validation);
        bool accuracy = baseline.Name == "Accuracy";
        // Gradient scores are computed once on the validation split and shared by every copy's plan.
        GradientCriterion? gradients = null;
        if (ImportanceCriterion.ScoresFromData(criterion))
        {
            gradients = (GradientCriterion)ImportanceCriterion.Create(criterion, 0);
            gradients.ObserveData(model, validation, 256, cancel);
        }
        try
        {
            var prunable = PrunableStructure.For(structure);
            int layers = prunable.PrunableLayers(model);
            var rows = new List<LayerSensitivity>();
            int total = layers * levels.Count, done = 0;
            for (int layer = 0; layer < layers; layer++)
            {
                foreach (var level in levels)
                {
                    cancel.ThrowIfCancellationRequested();
                    progress?.Invoke(new WorkProgress(string.Create(CultureInfo.InvariantCulture, $"Layer {layer} at {level:0.###}"), done++, total));
                    var copy = model.Clone();
                    try
                    {
                        var request = new PruningRequest
                        {
                            Ratio = level, Structure = structure, Criterion = criterion, Layers = new[] { layer },
                            Seed = criterion == PruneCriterion.Random ? (seed ?? model.NextSeed()) : null,
                        };
                        long before = prunable.PresentCount(copy, layer);
                        using (var plan = Pruner.Plan(copy, request, null, gradients, null, cancel))
                            Pruner.ApplyToLayers(copy, plan);
                        long after = prunable.PresentCount(copy, layer);
                        var metric = Evaluator.Evaluate(copy, validation);
                        rows.Add(new LayerSensitivity
                        {
                            Model = model.Name, Layer = layer, Shape = $"{model.State[layer].InFeatures}x{model.State[layer].OutFeatures}",
                            Structure = structure, Criterion = criterion, Ratio = level, Deleted = before - after,
                            MetricName = metric.Name, BaselineMetric = baseline.Value, Metric = metric.Value,
                            Drop = accuracy ? baseline.Value - metric.Value : metric.Value - baseline.Value,
                        });
                    }
                    finally
                    {
                        copy.ReplaceLayers(Array.Empty<LayerState>());
                    }
                }
            }
            progress?.Invoke(new WorkProgress("Done", total, total));
            return rows;
        }
        finally
        {
            gradients?.Dispose();
        }
    }
}
