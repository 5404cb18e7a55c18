using System.Globalization;

namespace SparsePrune;

/// <summary>
/// Finds the most pruning whose validation metric, after the whole schedule, stays within the
/// budget, and prunes the model to it: with -Scope Global the largest global ratio; with -Scope
/// Layer a target per layer, guided by each layer's sensitivity. Each try runs on a copy; the
/// schedule trains on the training split less the validation rows (never the test split).
/// </summary>
public static class BudgetSearch
{
    /// <summary>Checks a budget request without running it (what -WhatIf must refuse too).</summary>
    public static void Validate(Mlp model, PruningRequest request, ScheduleOptions schedule, BudgetOptions budget)
    {
        if ((budget.MaxAccuracyDrop is null) == (budget.MaxLossIncrease is null))
            throw SparsePruneException.Argument("BudgetRequired", "Give one budget: -MaxAccuracyDrop (classification) or -MaxLossIncrease (regression).");
        if (budget.MaxAccuracyDrop is { } d && !(d >= 0 && d < 1))
            throw SparsePruneException.Argument("InvalidBudget", $"-MaxAccuracyDrop is a fraction of accuracy (0.01 = one point), at least 0 and below 1; got {d.ToString(CultureInfo.InvariantCulture)}.");
        if (budget.MaxLossIncrease is { } li && !(li >= 0 && !double.IsInfinity(li)))
            throw SparsePruneException.Argument("InvalidBudget", $"-MaxLossIncrease is a relative rise (0.1 = 10 %), 0 or more; got {li.ToString(CultureInfo.InvariantCulture)}.");
        if (budget.MaxAccuracyDrop is not null && model.Task != TaskKind.Classification)
            throw SparsePruneException.Argument("BudgetDoesNotFit", $"Model '{model.Name}' is a regression: give -MaxLossIncrease instead of -MaxAccuracyDrop.");
        if (budget.MaxLossIncrease is not null && model.Task != TaskKind.Regression)
            throw SparsePruneException.Argument("BudgetDoesNotFit", $"Model '{model.Name}' is a classifier: give -MaxAccuracyDrop instead of -MaxLossIncrease.");
        if (budget.Probes < 1 || budget.Probes > 30) throw SparsePruneException.Argument("InvalidProbes", $"The search needs 1 to 30 probes; got {budget.Probes}.");
        if (request.Structure == PruneStructure.NM)
            throw SparsePruneException.Argument("ScheduleNeedsRatio", "An accuracy budget searches for a -Ratio; -Structure NM has a fixed pattern instead.");
        schedule.Validate(request);
        Pruner.Check(model, request);
        if (!(budget.ValidationFraction > 0 && budget.ValidationFraction < 1))
            throw SparsePruneException.Argument("InvalidValidationFraction", $"-ValidationFraction must be above 0 and below 1 (0.1 holds out 10 % of the training rows); got {budget.ValidationFraction.ToString(CultureInfo.InvariantCulture)}.");
    }

    public static BudgetResult Run(Mlp model, PruningRequest request, ScheduleOptions schedule, Dataset data, BudgetOptions budget,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        Validate(model, request, schedule, budget);
        Evaluator.CheckCompatible(model, data);
        // The tries run on copies: a stop among them leaves the model as it was, and its history says so.
        return model.RecordingStop(() => Search(model, request, schedule, data, budget, progress, cancel));
    }

    private static BudgetResult Search(Mlp model, PruningRequest request, ScheduleOptions schedule, Dataset data, BudgetOptions budget,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        if (request.Criterion == PruneCriterion.Random && request.Seed is null) request = request with { Seed = model.NextSeed() };

        int splitSeed = budget.Seed ?? model.NextSeed();
        var validation = data.SplitValidation(budget.ValidationFraction, splitSeed);
        double start = Pruner.CurrentRatio(model, request);
        var probes = new List<BudgetProbe>();

        double RunCopy(PruningRequest r)
        {
            var copy = model.Clone();
            try
            {
                var result = PruningScheduler.Run(copy, r, schedule, validation, null, cancel);
                cancel.ThrowIfCancellationRequested();
                return result.Metric?.Value ?? Evaluator.Evaluate(copy, validation).Value;
            }
            finally
            {
                copy.ReplaceLayers(Array.Empty<LayerState>());
            }
        }

        // The reference is the model after the same schedule without pruning: a schedule that
        // trains on the training split less the validation rows changes the metric by itself (the
        // model may have learned those rows before), and the budget is for what pruning costs.
        bool trains = schedule.FineTuneEpochs > 0 || schedule.Schedule is PruneSchedule.Gradual or PruneSchedule.LotteryTicket or PruneSchedule.RigL;
        var baseline = trains ? new MetricResult(model.Task == TaskKind.Classification ? "Accuracy" : "Loss", RunCopy(request with { Ratio = 0, LayerRatios = null }))
            : Evaluator.Evaluate(model, validation);
        bool accuracy = baseline.Name == "Accuracy";
        double Cost(double metric) => accuracy ? baseline.Value - metric
            : baseline.Value == 0 ? (metric > 0 ? double.PositiveInfinity : 0) : (metric - baseline.Value) / baseline.Value;
        double limit = budget.MaxAccuracyDrop ?? budget.MaxLossIncrease!.Value;

        bool Try(PruningRequest r, string what)
        {
            progress?.Invoke(new WorkProgress($"Budget: trying {what} ({probes.Count + 1} of at most {budget.Probes + 1})", probes.Count, budget.Probes + 1));
            var metric = RunCopy(r);
            var probe = new BudgetProbe(r.Ratio, metric, Cost(metric), Cost(metric) <= limit) { LayerRatios = r.LayerRatios };
            probes.Add(probe);
            return probe.WithinBudget;
        }

        PruningRequest? chosen = null;
        string? sensitivityNote = null;
        if (request.Scope != PruneScope.Layer)
        {
            // Bisection on the ratio: the first try is the upper end, then the interval halves.
            double upper = request.Ratio > start ? request.Ratio : MaxRatio(model, request);
            double lo = start, hi = upper;
            if (upper > start)
            {
                if (Try(request with { Ratio = upper }, Show(upper))) chosen = request with { Ratio = upper };
                else
                {
                    for (int i = 0; i < budget.Probes; i++)
                    {
                        double mid = FloorRatio(lo + (hi - lo) / 2);
                        if (mid <= lo) break;
                        if (Try(request with { Ratio = mid }, Show(mid))) { chosen = request with { Ratio = mid }; lo = mid; } else hi = mid;
                    }
                }
            }
        }
        else
        {
            // Per layer, guided by sensitivity: each layer alone at each level on the validation
            // split; a tolerance t gives every layer the highest level up to which its drop stays
            // within t; the search bisects over the tolerances the table holds.
            var grid = (request.Structure == PruneStructure.Neuron ? NeuronLevels : ConnectionLevels)
                .Where(g => request.Ratio <= 0 || g <= request.Ratio).ToArray();
            if (grid.Length == 0) grid = new[] { request.Ratio };
            var rows = SensitivityAnalysis.Measure(model, data, grid, request.Structure, request.Criterion, budget.ValidationFraction, splitSeed, null, cancel);
            int layers = request.StructureImpl.PrunableLayers(model);
            var inScope = request.Layers?.ToHashSet() ?? Enumerable.Range(0, layers).ToHashSet();
            var tolerances = rows.Where(r => inScope.Contains(r.Layer)).Select(r => Math.Max(0, r.Drop)).Distinct().OrderBy(t => t).ToArray();
            double[] Allocation(double tolerance) => Enumerable.Range(0, layers).Select(l =>
            {
                double current = Pruner.CurrentLayerRatio(model, request, l);
                if (!inScope.Contains(l)) return Math.Min(current, 0.999999);
                double best = current;
                foreach (var row in rows.Where(r => r.Layer == l).OrderBy(r => r.Ratio))
                {
                    if (row.Drop > tolerance) break;
                    best = Math.Max(best, row.Ratio);
                }
                return Math.Min(best, 0.999999);
            }).ToArray();
            PruningRequest At(int index) { var a = Allocation(tolerances[index]); return request with { LayerRatios = a, Ratio = a.Max() }; }
            string ShowLayers(PruningRequest r) => "layers " + string.Join(",", r.LayerRatios!.Select(Show));
            int loIndex = -1, hiIndex = tolerances.Length;
            if (tolerances.Length > 0)
            {
                var top = At(tolerances.Length - 1);
                if (Try(top, ShowLayers(top))) chosen = top;
                else
                {
                    hiIndex = tolerances.Length - 1;
                    for (int i = 0; i < budget.Probes && hiIndex - loIndex > 1; i++)
                    {
                        int mid = loIndex + (hiIndex - loIndex) / 2;
                        var candidate = At(mid);
                        if (Try(candidate, ShowLayers(candidate))) { chosen = candidate; loIndex = mid; } else hiIndex = mid;
                    }
                }
            }
            sensitivityNote = "sensitivity (validation drop per layer and level): " + string.Join("; ", rows.GroupBy(r => r.Layer).Select(g =>
                $"{g.Key}: " + string.Join(" ", g.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Ratio:0.##}={r.Drop:0.####}")))));
        }

        var note = $"{(trains ? "reference (same schedule, nothing pruned)" : "baseline")} validation {baseline.Name} {baseline.Value.ToString("0.####", CultureInfo.InvariantCulture)}; "
            + (sensitivityNote is null ? "" : sensitivityNote + "; ")
            + "tried " + string.Join(", ", probes.Select(p => string.Create(CultureInfo.InvariantCulture,
                $"{(p.LayerRatios is { } lr ? "layers " + string.Join(",", lr.Select(Show)) : Show(p.Ratio))} -> {p.Metric:0.####} ({(p.WithinBudget ? "within" : "over")})")))
            + $"; chose {(chosen is null ? "nothing more" : chosen.LayerRatios is { } c ? "layers " + string.Join(",", c.Select(Show)) : Show(chosen.Ratio))}";
        return model.Transact(() =>
        {
            model.EnsureBaseline(data);
            ScheduleResult? result = null;
            var before = model.Counts;
            // The same seeds as the try, so the model ends exactly where the try did.
            if (chosen is not null) result = PruningScheduler.Run(model, chosen, schedule, validation, progress, cancel);
            // Training adopted the validation-carved set; later cmdlets use the set the user gave.
            model.AttachDataset(data);
            var metric = Evaluator.Evaluate(model, validation);
            model.Record("PruneBudget", (budget.MaxAccuracyDrop is { } drop ? string.Create(CultureInfo.InvariantCulture, $"MaxAccuracyDrop={drop}") : string.Create(CultureInfo.InvariantCulture, $"MaxLossIncrease={budget.MaxLossIncrease}"))
                + $" {(chosen ?? request).Describe()} {schedule.Describe()} ValidationFraction={budget.ValidationFraction.ToString(CultureInfo.InvariantCulture)}", before, metric, note);
            return new BudgetResult
            {
                ChosenRatio = Pruner.CurrentRatio(model, request with { Layers = request.Layers }), ChosenLayerRatios = chosen?.LayerRatios,
                MetricName = baseline.Name, BaselineMetric = baseline.Value, Metric = metric.Value, Probes = probes, Schedule = result,
            };
        });
    }

    private static readonly double[] ConnectionLevels = { 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99 };
    private static readonly double[] NeuronLevels = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };

    private static string Show(double r) => r.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>Ratios are searched on a 1/4096 grid, so that every try names a short, exact number.</summary>
    private static double FloorRatio(double r) => Math.Floor(r * 4096) / 4096;

    /// <summary>The largest ratio the request can reach: what -MaxLayerSparsity (global) and one neuron per layer allow.</summary>
    private static double MaxRatio(Mlp model, PruningRequest request)
    {
        double cap = Math.Min(0.999, request.Scope == PruneScope.Global ? request.EffectiveMaxLayerSparsity : 0.999);
        if (request.Structure == PruneStructure.Neuron)
        {
            var baseN = PrunableStructure.BaselineNeurons(model);
            var hidden = Pruner.InScope(model, request);
            long total = hidden.Sum(l => (long)baseN[l]);
            long removable = hidden.Sum(l => Math.Min(baseN[l] - 1, Ranking.FloorCount(cap, baseN[l])));
            return FloorRatio((double)removable / total);
        }
        var baseW = PrunableStructure.BaselineWeights(model);
        var layers = Pruner.InScope(model, request);
        if (request.Scope != PruneScope.Global) return Math.Min(cap, 0.999);
        long all = layers.Sum(l => baseW[l]);
        return FloorRatio((double)layers.Sum(l => Ranking.FloorCount(cap, baseW[l])) / all);
    }
}
