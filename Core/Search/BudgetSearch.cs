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
        BudgetLimit.Check(model, budget.MaxAccuracyDrop, budget.MaxLossIncrease);
        if (budget.Probes < 1 || budget.Probes > 30) throw SparsePruneException.Argument("InvalidProbes", $"The search needs 1 to 30 probes; got {budget.Probes}.");
        if (request.Structure == PruneStructure.NM)
            throw SparsePruneException.Argument("ScheduleNeedsRatio", "An accuracy budget searches for a -Ratio; -Structure NM has a fixed pattern instead.");
        schedule.Validate(request);
        Pruner.Check(model, request);
        if (budget.ValidationFraction is { } vf && !(vf > 0 && vf < 1))
            throw SparsePruneException.Argument("InvalidValidationFraction", $"-ValidationFraction must be above 0 and below 1 (0.1 holds out 10 % of the training rows); got {vf.ToString(CultureInfo.InvariantCulture)}.");
        if (!(budget.Confidence >= PairedBound.MinConfidence && budget.Confidence <= PairedBound.MaxConfidence))
            throw SparsePruneException.Argument("InvalidConfidence", $"-Confidence is the one-sided confidence that a try stays within the budget, from 0.5 (the measured drop alone) to 0.9999 (0.95 is the default); got {budget.Confidence.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <param name="warn">Called with each warning as it arises (the split too small for the budget); they are also in the result.</param>
    public static BudgetResult Run(Mlp model, PruningRequest request, ScheduleOptions schedule, Dataset data, BudgetOptions budget,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default, Action<string>? warn = null)
    {
        Validate(model, request, schedule, budget);
        ModelInputs.CheckCompatible(model, data);
        // The tries run on copies: a stop among them leaves the model as it was, and its history says so.
        return ModelTransaction.RecordingStop(model, () => Search(model, request, schedule, data, budget, progress, cancel, warn));
    }

    private static BudgetResult Search(Mlp model, PruningRequest request, ScheduleOptions schedule, Dataset data, BudgetOptions budget,
        Action<WorkProgress>? progress, CancellationToken cancel, Action<string>? warn)
    {
        request = request.WithRandomSeed(model);

        int splitSeed = budget.Seed ?? model.NextSeed();
        double validationFraction = budget.ValidationFractionFor(schedule);
        var validation = data.SplitValidation(validationFraction, splitSeed);
        int validationRows = validation.TestCount;
        // A paired bound needs a spread, and one row has none.
        if (validationRows < 2)
            throw SparsePruneException.BadData("TooFewValidationRows", string.Create(CultureInfo.InvariantCulture,
                $"-ValidationFraction {validationFraction} of the {data.TrainCount} training rows of '{data.Name}' leaves {validationRows} validation row; a budget needs at least 2, and hundreds to resolve a drop of a point: give a larger -ValidationFraction or more data."));
        int rowsNeeded = budget.MaxAccuracyDrop is { } asked ? PairedBound.RowsNeeded(asked, budget.Confidence) : 0;
        // Said before the tries start, which can take minutes: the row count alone decides it.
        string? splitWarning = budget.MaxAccuracyDrop is { } d ? AccuracyWarning(d, validationRows, budget, data.TrainCount, Trains(schedule)) : null;
        if (splitWarning is not null) warn?.Invoke(splitWarning);
        double start = Pruner.CurrentRatio(model, request);
        var probes = new List<BudgetProbe>();

        // A try's metric and its score on each validation row, for the paired bound.
        (double Metric, double[] Rows) RunCopy(PruningRequest r)
        {
            var copy = model.Clone();
            try
            {
                var result = PruningScheduler.Run(copy, r, schedule, validation, null, cancel);
                cancel.ThrowIfCancellationRequested();
                return (result.Metric?.Value ?? Evaluator.Evaluate(copy, validation).Value, RowScores.Of(copy, validation));
            }
            finally
            {
                copy.ReplaceLayers(Array.Empty<LayerState>());
            }
        }

        // The reference is the model after the same schedule without pruning: a schedule that
        // trains on the training split less the validation rows changes the metric by itself (the
        // model may have learned those rows before), and the budget is for what pruning costs.
        bool trains = Trains(schedule);
        string metricName = model.Task == TaskKind.Classification ? "Accuracy" : "Loss";
        var (referenceValue, referenceRows) = trains ? RunCopy(request with { Ratio = 0, LayerRatios = null })
            : (Evaluator.Evaluate(model, validation).Value, RowScores.Of(model, validation));
        var baseline = new MetricResult(metricName, referenceValue);
        bool accuracy = baseline.Name == "Accuracy";
        double Cost(double metric) => accuracy ? baseline.Value - metric
            : baseline.Value == 0 ? (metric > 0 ? double.PositiveInfinity : 0) : (metric - baseline.Value) / baseline.Value;
        double limit = budget.MaxAccuracyDrop ?? budget.MaxLossIncrease!.Value;

        bool Try(PruningRequest r, string what)
        {
            progress?.Invoke(new WorkProgress($"Budget: trying {what} ({probes.Count + 1} of at most {budget.Probes + 1})", probes.Count, budget.Probes + 1));
            var (metric, scores) = RunCopy(r);
            // The cost as measured (what the search judged before it had a bound), plus the margin
            // the rows where the two models differ ask for: at confidence 0.5 the margin is 0.
            var evidence = accuracy ? PairedBound.Accuracy(referenceRows, scores, budget.Confidence) : PairedBound.Loss(referenceRows, scores, budget.Confidence);
            double cost = Cost(metric), bound = evidence.Width == 0 ? cost : cost + evidence.Width;
            var probe = new BudgetProbe(r.Ratio, metric, cost, bound <= limit)
            {
                LayerRatios = r.LayerRatios, Bound = bound, Lost = evidence.Lost, Gained = evidence.Gained,
            };
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
            var rows = SensitivityAnalysis.Measure(model, data, grid, request.Structure, request.Criterion, validationFraction, splitSeed, null, cancel);
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
                if (chosen is null) chosen = ScaledDown(At(0));
            }

            // Even the most cautious allocation, each layer at the level it bore alone with the
            // least drop, costs too much once all layers are pruned together: take a share of it
            // (each layer from where it is towards that level), bisecting on the share with the
            // tries left, rather than prune nothing.
            PruningRequest? ScaledDown(PruningRequest least)
            {
                var current = Enumerable.Range(0, layers).Select(l => Pruner.CurrentLayerRatio(model, request, l)).ToArray();
                PruningRequest? found = null;
                double lo = 0, hi = 1;
                while (probes.Count <= budget.Probes)
                {
                    double share = (lo + hi) / 2;
                    var ratios = least.LayerRatios!.Select((r, l) => Math.Max(current[l], Math.Min(r, FloorRatio(current[l] + share * (r - current[l]))))).ToArray();
                    if (ratios.SequenceEqual(current) || (found?.LayerRatios is { } f && ratios.SequenceEqual(f))) break;
                    var candidate = request with { LayerRatios = ratios, Ratio = ratios.Max() };
                    if (Try(candidate, ShowLayers(candidate))) { found = candidate; lo = share; } else hi = share;
                }
                return found;
            }
            sensitivityNote = "sensitivity (validation drop per layer and level): " + string.Join("; ", rows.GroupBy(r => r.Layer).Select(g =>
                $"{g.Key}: " + string.Join(" ", g.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Ratio:0.##}={r.Drop:0.####}")))));
        }

        var warnings = new List<string>(splitWarning is null ? 0 : 1);
        if (splitWarning is not null) warnings.Add(splitWarning);
        double resolution = accuracy ? PairedBound.OneRowBound(validationRows, budget.Confidence) : probes.Count > 0 ? probes[^1].Width : 0;
        if (!accuracy && LossWarning(probes, limit, validationRows, budget, data.TrainCount, trains) is { } lossWarning)
        {
            warnings.Add(lossWarning);
            warn?.Invoke(lossWarning);
        }

        string what = accuracy ? "drop" : "rise";
        var note = $"{(trains ? "reference (same schedule, nothing pruned)" : "baseline")} validation {baseline.Name} {baseline.Value.ToString("0.####", CultureInfo.InvariantCulture)} on {validationRows} rows; "
            + (budget.Confidence == PairedBound.MinConfidence
                ? $"judged by the measured {what} alone (Confidence=0.5)"
                : string.Create(CultureInfo.InvariantCulture, $"judged by a {budget.Confidence:0.####} one-sided paired bound on the {what}")
                    + (accuracy ? string.Create(CultureInfo.InvariantCulture, $", smallest drop it can certify {resolution:0.####}") : ""))
            + (warnings.Count > 0 ? accuracy ? $" (too few rows for the budget: it needs {rowsNeeded})" : " (too few rows for the budget)" : "") + "; "
            + (sensitivityNote is null ? "" : sensitivityNote + "; ")
            + "tried " + string.Join(", ", probes.Select(p =>
                string.Create(CultureInfo.InvariantCulture, $"{(p.LayerRatios is { } lr ? "layers " + string.Join(",", lr.Select(Show)) : Show(p.Ratio))} -> {p.Metric:0.####} ({what} {p.Cost:0.####}")
                + (p.Lost is { } lost ? $", lost {lost}, gained {p.Gained}" : "")
                + string.Create(CultureInfo.InvariantCulture, $", bound {p.Bound:0.####}, {(p.WithinBudget ? "within" : "over")})")))
            + $"; chose {(chosen is null ? "nothing more" : chosen.LayerRatios is { } c ? "layers " + string.Join(",", c.Select(Show)) : Show(chosen.Ratio))}";
        return ModelTransaction.Run(model, () =>
        {
            model.EnsureBaseline(data);
            ScheduleResult? result = null;
            var before = model.Counts;
            // The same seeds as the try, so the model ends exactly where the try did.
            if (chosen is not null) result = PruningScheduler.Run(model, chosen, schedule, validation, progress, cancel);
            // Training adopted the validation-carved set; later cmdlets use the set the user gave.
            model.AttachDataset(data);
            var metric = Evaluator.Evaluate(model, validation);
            var settings = (budget.MaxAccuracyDrop is { } drop ? new HistorySettings().Add("MaxAccuracyDrop", drop) : new HistorySettings().Add("MaxLossIncrease", budget.MaxLossIncrease))
                .Concat((chosen ?? request).Describe()).Concat(schedule.Describe())
                .Add("ValidationFraction", validationFraction).Add("ValidationRows", validationRows).Add("Confidence", budget.Confidence);
            model.Record("PruneBudget", settings, before, metric, note);
            return new BudgetResult
            {
                ChosenRatio = Pruner.CurrentRatio(model, request with { Layers = request.Layers }), ChosenLayerRatios = chosen?.LayerRatios,
                MetricName = baseline.Name, BaselineMetric = baseline.Value, Metric = metric.Value, Probes = probes, Schedule = result,
                ValidationRows = validationRows, Confidence = budget.Confidence, Resolution = resolution, RowsNeeded = accuracy ? rowsNeeded : null,
                Warnings = warnings,
            };
        });
    }

    /// <summary>
    /// Why an accuracy budget is finer than an n-row validation split can resolve, and what to do;
    /// null when the split has the rows PairedBound.RowsNeeded asks for.
    /// </summary>
    internal static string? AccuracyWarning(double maxAccuracyDrop, int rows, BudgetOptions budget, int trainRows, bool trains)
    {
        int needed = PairedBound.RowsNeeded(maxAccuracyDrop, budget.Confidence);
        if (rows >= needed) return null;
        string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
        double smallest = Math.Ceiling(PairedBound.SmallestBudget(rows, budget.Confidence) * 10000) / 10000;
        if (maxAccuracyDrop == 0)
            return $"-MaxAccuracyDrop 0 is met only by tries that the {rows} validation rows show to lose no accuracy at all: expect little or no pruning. "
                + $"A budget of {F(smallest)} or more suits {rows} rows.";
        string confidence = budget.Confidence == PairedBound.MinConfidence ? "" : string.Create(CultureInfo.InvariantCulture, $" at {budget.Confidence:0.####} confidence");
        return $"The validation split has {rows} rows: one row is {F(1.0 / rows)} of accuracy, and{confidence} it cannot tell a drop of half the budget ({F(maxAccuracyDrop / 2)}) from none, "
            + $"so -MaxAccuracyDrop {F(maxAccuracyDrop)} needs at least {needed} rows. "
            + (budget.Confidence == PairedBound.MinConfidence
                ? "A drop measured on so few rows may be off by more than the budget on rows the model has not been judged on. "
                : "The search will stop short of the budget, or prune nothing. ")
            + $"Give {MoreRows(needed, trainRows, trains)}, or a budget of at least {F(smallest)}.";
    }

    /// <summary>
    /// A loss budget has no row count that is enough in advance: it depends on how the tries spread
    /// the error over the rows. The sign of too few rows is a try the bound turned down though its
    /// measured rise was within the budget, because the bound was wider than half the budget.
    /// </summary>
    internal static string? LossWarning(IReadOnlyList<BudgetProbe> probes, double maxLossIncrease, int rows, BudgetOptions budget, int trainRows, bool trains)
    {
        var doubtful = probes.Where(p => !p.WithinBudget && p.Cost <= maxLossIncrease && p.Width > maxLossIncrease / 2).MinBy(p => p.Cost);
        if (doubtful is null) return null;
        string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
        // The width shrinks as 1/√n: the rows that would bring it to half the budget.
        double factor = doubtful.Width / (maxLossIncrease / 2);
        // Less a hair: a width of exactly some multiple of the half budget must not ask for a row more.
        int needed = (int)Math.Min(int.MaxValue, Math.Ceiling(rows * factor * factor - 1e-9));
        return $"The validation split has {rows} rows: it measured a try ({(doubtful.LayerRatios is { } lr ? "layers " + string.Join(",", lr.Select(Show)) : Show(doubtful.Ratio))}) "
            + $"at a rise of {F(doubtful.Cost)}, within -MaxLossIncrease {F(maxLossIncrease)}, but at {F(budget.Confidence)} confidence only to within {F(doubtful.Width)}, more than half the budget, so the search turned it down. "
            + $"Give {MoreRows(needed, trainRows, trains)}, or a larger budget.";
    }

    /// <summary>The schedules that train a copy on the training rows less the validation rows.</summary>
    internal static bool Trains(ScheduleOptions schedule) =>
        schedule.FineTuneEpochs > 0 || schedule.Schedule is PruneSchedule.Gradual or PruneSchedule.LotteryTicket or PruneSchedule.RigL;

    /// <summary>What to ask for to get <paramref name="needed"/> validation rows out of <paramref name="trainRows"/>.</summary>
    private static string MoreRows(int needed, int trainRows, bool trains)
    {
        // A schedule that trains loses its validation rows from training: half the training split
        // is as much as it should give up. Without training the rows only judge, up to 0.9 of them.
        double most = trains ? 0.5 : 0.9;
        if (needed > Math.Floor(trainRows * most)) return $"more data (about {needed} validation rows; the training split has {trainRows})";
        double fraction = Math.Ceiling((double)needed / trainRows * 100) / 100;
        while (Math.Floor(trainRows * fraction) < needed) fraction += 0.01;
        return string.Create(CultureInfo.InvariantCulture, $"-ValidationFraction {Math.Round(fraction, 2)} or more ({needed} of the {trainRows} training rows), more data");
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
