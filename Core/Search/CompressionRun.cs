using System.Diagnostics;
using System.Globalization;

namespace SparsePrune;

/// <summary>
/// One run of <see cref="CompressionSearch"/>: the validation split, the reference, the candidates
/// tried so far and the best of them. Candidates are copies; the model itself changes once, at the
/// end, into the chosen candidate.
/// </summary>
internal sealed class CompressionRun
{
    private readonly Mlp _model;
    private readonly Dataset _data;
    private readonly CompressionOptions _options;
    private readonly Action<WorkProgress>? _progress;
    private readonly CancellationToken _userStop;
    private readonly Action<string>? _warn;
    private readonly Action<CompressionCandidate>? _triedOne;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<CompressionCandidate> _tried = new();
    // Pruned candidates within the budget, kept as bases for weight sharing (sparsest first at the end).
    private readonly List<(CompressionCandidate Candidate, Mlp Model)> _bases = new();
    private (CompressionCandidate Candidate, Mlp Model)? _best;
    private CancellationTokenSource _limit = null!;
    private Dataset _validation = null!;
    private TrainingOptions _training = null!;
    private double[] _referenceRows = Array.Empty<double>();
    private double _referenceMetric;
    private long _denseFileBytes;
    private int _estimatedCandidates;
    private double _validationFraction;
    private int _epochs;
    private bool Accuracy => _model.Task == TaskKind.Classification;
    private double Limit => _options.MaxAccuracyDrop ?? _options.MaxLossIncrease!.Value;
    private bool Ended => _limit.IsCancellationRequested;

    public CompressionRun(Mlp model, Dataset data, CompressionOptions options, Action<WorkProgress>? progress, CancellationToken cancel,
        Action<string>? warn, Action<CompressionCandidate>? tried)
    {
        (_model, _data, _options, _progress, _userStop, _warn, _triedOne) = (model, data, options, progress, cancel, warn, tried);
    }

    public CompressionSearchResult Execute()
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_userStop);
        if (_options.TimeLimit is { } t) limit.CancelAfter(t);
        _limit = limit;
        // The model as given, with its baseline taken now (on the data set's own evaluation split,
        // as every compression step takes it): every candidate is a copy of it.
        var origin = _model.Clone();
        try
        {
            origin.EnsureBaseline(_data);
            // The reference Get-CompressionReport's CompressionRatio divides by: the dense file at the baseline.
            _denseFileBytes = SpmlpFormat.BaselineFileBytes(origin);
            int seed = _options.Seed ?? _model.NextSeed();
            _validationFraction = _options.ValidationFractionFor(_data.TrainCount);
            _validation = _data.SplitValidation(_validationFraction, seed);
            if (_validation.TestCount < 2)
                throw SparsePruneException.BadData("TooFewValidationRows", string.Create(CultureInfo.InvariantCulture,
                    $"-ValidationFraction {_validationFraction} of the {_data.TrainCount} training rows of '{_data.Name}' leaves {_validation.TestCount} validation row; the search needs at least 2, and hundreds to resolve a drop of a point."));
            // Said before the candidates start, which can take minutes: the row count alone decides it.
            if (_options.MaxAccuracyDrop is { } drop
                && BudgetSearch.AccuracyWarning(drop, _validation.TestCount, new BudgetOptions { MaxAccuracyDrop = drop, Confidence = _options.Confidence }, _data.TrainCount, trains: true) is { } few)
                _warn?.Invoke(few);
            int stepsPerEpoch = Math.Max(1, (_validation.TrainCount + _options.BatchSize - 1) / _options.BatchSize);
            _epochs = _options.EpochsFor(stepsPerEpoch);
            _training = new TrainingOptions
            {
                BatchSize = _options.BatchSize, Seed = seed, Epochs = _epochs,
                Distillation = _options.Distillation(),
            };
            _estimatedCandidates = 1 + 4 + (_options.Objective == CompressionObjective.FileSize ? 2 * CompressionSearch.SharingBases + 2 : 3);
            if (!Reference(origin)) return Finish();
            PruningStage(origin, PruneStructure.Connection, CompressionSearch.ConnectionLevels);
            if (_options.Objective == CompressionObjective.FileSize) { SharingStage(); LeanStage(); }
            else PruningStage(origin, PruneStructure.Neuron, CompressionSearch.NeuronLevels);
            return Finish();
        }
        finally
        {
            Discard(origin);
            foreach (var (_, m) in _bases) if (!ReferenceEquals(m, _best?.Model)) Discard(m);
            if (_best is { } b) Discard(b.Model);
        }
    }

    /// <summary>The model as given trained as long as a pruning candidate on the same rows: what each candidate's cost is measured against.</summary>
    private bool Reference(Mlp origin)
    {
        var reference = origin.Clone();
        try
        {
            const string status = "Reference: the model as given, trained as long as a candidate on the same rows";
            Report(status);
            var result = Trainer.Train(reference, _validation, _training, Under(status), _limit.Token);
            if (result.Stopped || Ended) return false;
            _referenceRows = RowScores.Of(reference, _validation);
            _referenceMetric = Evaluator.Evaluate(reference, _validation).Value;
            return true;
        }
        catch (OperationCanceledException) when (Ended) { return false; }
        finally { Discard(reference); }
    }

    /// <summary>Bisects <paramref name="levels"/> for the highest ratio of <paramref name="structure"/> within the budget.</summary>
    private void PruningStage(Mlp origin, PruneStructure structure, double[] levels)
    {
        var request = new PruningRequest
        {
            Structure = structure, Criterion = PruneCriterion.L1, Scope = structure == PruneStructure.Connection ? PruneScope.ERK : PruneScope.Layer,
            ScoringBatchSize = _options.BatchSize,
        };
        double start = Pruner.CurrentRatio(origin, request);
        var open = levels.Where(l => l > start + 1e-9).ToArray();
        int lo = -1, hi = open.Length;
        while (hi - lo > 1 && !Ended)
        {
            int mid = lo + (hi - lo + 1) / 2;
            var r = request with { Ratio = open[mid] };
            var tried = TryPruning(origin, r);
            if (tried is null) return;
            if (tried.WithinBudget) lo = mid; else hi = mid;
        }
    }

    private CompressionCandidate? TryPruning(Mlp origin, PruningRequest request)
    {
        string stage = request.Structure == PruneStructure.Connection ? "Sparsity" : "Neurons";
        var schedule = Schedule(request);
        var settings = request.Describe().Concat(schedule.Describe());
        return Try(stage, settings.ToString(), () =>
        {
            var copy = origin.Clone();
            var result = PruningScheduler.Run(copy, request, schedule, _validation, Under(CandidateStatus(settings.ToString())), _limit.Token);
            if (!result.Stopped && request.Structure == PruneStructure.Connection) copy = WithoutDeadNeurons(copy);
            return (copy, !result.Stopped);
        }, keepAsBase: request.Structure == PruneStructure.Connection);
    }

    /// <summary>
    /// The candidate without the neurons connection pruning left unread or unfed: fewer operations
    /// always, but a file can grow (the neurons' origins are recorded, and on a small model that
    /// costs more than the biases and positions saved), so for file size only when it shrinks.
    /// </summary>
    private Mlp WithoutDeadNeurons(Mlp pruned)
    {
        if (_options.Objective != CompressionObjective.FileSize)
        {
            DeadNeurons.Remove(pruned);
            return pruned;
        }
        var trimmed = pruned.Clone();
        if (DeadNeurons.Remove(trimmed).Sum() > 0 && SizeOf(trimmed) < SizeOf(pruned))
        {
            Discard(pruned);
            return trimmed;
        }
        Discard(trimmed);
        return pruned;
    }

    /// <summary>
    /// The bytes of the candidate's file with its history's times fixed: the same candidate sizes
    /// the same in every run, so that near ties are not decided by a timestamp's compressed length
    /// (the file written later differs from this by those few bytes).
    /// </summary>
    private static long SizeOf(Mlp model)
    {
        var records = model.History.ToList();
        try
        {
            model.RestoreHistory(records.Select(r => r with { Time = DateTime.UnixEpoch }));
            return SpmlpFormat.CanonicalBytes(model).Length;
        }
        finally { model.RestoreHistory(records); }
    }

    /// <summary>Gradual pruning over the candidate's epochs, the target raised about 20 times an epoch on large sets.</summary>
    private ScheduleOptions Schedule(PruningRequest request)
    {
        int fitRows = _validation.TrainCount;
        int stepsPerEpoch = Math.Max(1, (fitRows + _options.BatchSize - 1) / _options.BatchSize);
        return new ScheduleOptions
        {
            Schedule = PruneSchedule.Gradual, Epochs = _epochs, RampFraction = 0.5,
            UpdateEvery = Math.Clamp(stepsPerEpoch / 4, 1, 20),
            Regrow = request.Structure == PruneStructure.Connection,
            Training = _training,
        };
    }

    /// <summary>k-means on the sparsest pruned candidates within the budget: 3 bits, then 2 when it holds, else 4 to 6.</summary>
    private void SharingStage()
    {
        foreach (var (candidate, pruned) in _bases.OrderByDescending(b => b.Candidate.PruningRatio).Take(CompressionSearch.SharingBases).ToList())
        {
            if (Ended) return;
            var at3 = TryBits(candidate, pruned, CompressionSearch.FirstBits);
            if (at3 is null) return;
            if (at3.WithinBudget)
            {
                if (TryBits(candidate, pruned, CompressionSearch.FewestBits) is null) return;
                continue;
            }
            for (int bits = CompressionSearch.FirstBits + 1; bits <= CompressionSearch.MostBits && !Ended; bits++)
            {
                var more = TryBits(candidate, pruned, bits);
                if (more is null) return;
                if (more.WithinBudget) break;
            }
        }
    }

    /// <summary>Bits of the biases' own codebooks in the lean stage's lossy candidate (Invoke-Quantization -BiasBits).</summary>
    private const int LeanBiasBits = 5;
    /// <summary>Significant bits the input scales keep in the lean stage's lossy candidate (Optimize-Mlp -FoldInputScaling -ScaleBits; 10 is a float16's).</summary>
    private const int LeanScaleBits = 10;

    /// <summary>
    /// The best weight-shared candidate with what its file still carries made smaller. First the
    /// input offsets folded into layer 0's bias, exact (on LeNet-300-100 the statistics were 5.6 KB
    /// of a 14 KB file); then, on that, the scales rounded to a float16's precision and the
    /// biases on codebooks of their own, which cost a little accuracy and so are judged as any
    /// candidate is. (8-bit scales and 4-bit biases cost LeNet-300-100 its budget.)
    /// </summary>
    private void LeanStage()
    {
        if (Ended || _best is not { } best || best.Candidate.Bits is null || best.Model.Scaling is null) return;
        string folded = $"FoldInputScaling after #{best.Candidate.Candidate}: {best.Candidate.Settings}";
        var exact = Try("Lean", folded, () =>
        {
            var copy = best.Model.Clone();
            // Refused (it would move an output beyond float rounding), nothing folds and the candidate shows it.
            try { InputFolding.Fold(copy, _validation); } catch (SparsePruneException) { }
            return (copy, true);
        }, keepAsBase: false, bits: best.Candidate.Bits, basis: best.Candidate);
        if (exact is null || Ended || _best is not { } foldedBest || !ReferenceEquals(foldedBest.Candidate, exact)) return;
        string lossy = $"FoldInputScaling ScaleBits={LeanScaleBits}; BiasBits={LeanBiasBits} after #{best.Candidate.Candidate}: {best.Candidate.Settings}";
        Try("Lean", lossy, () =>
        {
            var copy = foldedBest.Model.Clone();
            // The rounding moves outputs a little by design: the validation split judges it, not the fold's own check.
            try { InputFolding.Fold(copy, _validation, tolerance: 1, scaleBits: LeanScaleBits); } catch (SparsePruneException) { }
            Quantizer.QuantizeBiases(copy, Enumerable.Repeat(LeanBiasBits, copy.LayerCount).ToArray(), _validation);
            return (copy, true);
        }, keepAsBase: false, bits: best.Candidate.Bits, basis: best.Candidate);
    }

    private CompressionCandidate? TryBits(CompressionCandidate basis, Mlp pruned, int bits)
    {
        var request = new QuantizationRequest { Method = QuantizationMethod.KMeans, Bits = new[] { bits } };
        // The bits first, so that a progress bar's cut keeps them; then the pruned candidate it starts from.
        string settings = $"Method=KMeans Bits={bits} FineTuneEpochs={_options.FineTuneEpochs} after #{basis.Candidate}: {basis.Settings}";
        return Try("Bits", settings, () =>
        {
            var copy = pruned.Clone();
            var plan = Quantizer.Plan(copy, request);
            var result = Quantizer.Apply(copy, plan, _validation, _options.FineTuneEpochs, _training with { Epochs = _options.FineTuneEpochs },
                Under(CandidateStatus(settings)), _limit.Token);
            return (copy, result is not { Stopped: true });
        }, keepAsBase: false, bits: bits, basis: basis);
    }

    /// <summary>
    /// Makes one candidate with <paramref name="make"/> and judges it; null when the search ended
    /// (Ctrl+C, the time limit) before the candidate was done, which is then dropped.
    /// </summary>
    private CompressionCandidate? Try(string stage, string settings, Func<(Mlp Model, bool Completed)> make, bool keepAsBase,
        int? bits = null, CompressionCandidate? basis = null)
    {
        if (Ended) return null;
        var started = _clock.Elapsed;
        Report(CandidateStatus(settings));
        Mlp? copy = null;
        try
        {
            bool completed;
            (copy, completed) = make();
            if (!completed || Ended) { Discard(copy); return null; }
            double metric = Evaluator.Evaluate(copy, _validation).Value;
            var rows = RowScores.Of(copy, _validation);
            var evidence = Accuracy ? PairedBound.Accuracy(_referenceRows, rows, _options.Confidence) : PairedBound.Loss(_referenceRows, rows, _options.Confidence);
            double cost = Accuracy ? _referenceMetric - metric
                : _referenceMetric == 0 ? (metric > 0 ? double.PositiveInfinity : 0) : (metric - _referenceMetric) / _referenceMetric;
            double bound = evidence.Width == 0 ? cost : cost + evidence.Width;
            double? latency = null;
            if (_options.Objective == CompressionObjective.Latency)
            {
                var decisions = KernelTuner.Optimize(copy, _options.LatencyBatchSize, cancel: _limit.Token);
                KernelTuner.Apply(copy, decisions, batch: _options.LatencyBatchSize);
                latency = KernelTuner.MeasureLatency(copy, new[] { _options.LatencyBatchSize }, _validation, cancel: _limit.Token)[0].MedianMs;
            }
            var counts = CompressionCounts.Total(CompressionCounts.OfLayers(copy, SpmlpFormat.LayerWeightBytes(copy)));
            long fileBytes = SizeOf(copy);
            var candidate = new CompressionCandidate
            {
                Candidate = _tried.Count + 1, Stage = stage, Settings = settings,
                PruningRatio = counts.PruningRatio,
                NeuronRatio = copy.Baseline is { } b && b.HiddenNeurons > 0 ? 1 - (double)copy.HiddenNeurons / b.HiddenNeurons : 0,
                Bits = bits, Weights = counts.Weights, Parameters = counts.Parameters,
                FileBytes = fileBytes, CompressionRatio = fileBytes == 0 ? 0 : (double)_denseFileBytes / fileBytes,
                LatencyMs = latency, Flops = counts.Flops,
                MetricName = Accuracy ? "Accuracy" : "Loss", ReferenceMetric = _referenceMetric, ValidationMetric = metric,
                Cost = cost, Bound = bound, WithinBudget = bound <= Limit,
                Seconds = (_clock.Elapsed - started).TotalSeconds,
                Totals = new CompressionTotals(counts, fileBytes, _denseFileBytes),
            };
            _tried.Add(candidate);
            _triedOne?.Invoke(candidate);
            bool kept = false;
            if (candidate.WithinBudget && (_best is null || Better(candidate, _best.Value.Candidate)))
            {
                if (_best is { } old && !_bases.Any(x => ReferenceEquals(x.Model, old.Model))) Discard(old.Model);
                _best = (candidate, copy);
                kept = true;
            }
            if (candidate.WithinBudget && keepAsBase)
            {
                _bases.Add((candidate, copy));
                kept = true;
            }
            if (!kept) Discard(copy);
            return candidate;
        }
        catch (OperationCanceledException) when (Ended)
        {
            if (copy is not null) Discard(copy);
            return null;
        }
    }

    /// <summary>Better by the objective; a tie goes to the lower cost.</summary>
    private bool Better(CompressionCandidate a, CompressionCandidate b)
    {
        double Score(CompressionCandidate c) => _options.Objective switch
        {
            CompressionObjective.Latency => c.LatencyMs ?? double.MaxValue,
            CompressionObjective.Flops => c.Flops,
            _ => c.FileBytes,
        };
        double sa = Score(a), sb = Score(b);
        return sa < sb || (sa == sb && a.Cost < b.Cost);
    }

    /// <summary>The model becomes the best candidate (or stays as it was), with the search in its history.</summary>
    private CompressionSearchResult Finish()
    {
        bool stopped = _userStop.IsCancellationRequested;
        bool timedOut = !stopped && _limit.IsCancellationRequested;
        string? stopNote = stopped ? "stopped (Ctrl+C)" : timedOut ? $"the time limit ({_options.TimeLimit}) was reached" : null;
        var leastCost = _tried.MinBy(c => c.Bound);
        if (_best is not { } best)
        {
            // Stopped before any candidate held: nothing to keep, so the stop undoes the step as any other's does.
            if (stopped) throw new OperationCanceledException(_userStop);
            _warn?.Invoke(_tried.Count == 0
                ? $"Compress-Mlp tried no candidate before {stopNote}; model '{_model.Name}' is as it was."
                : $"No candidate kept within the budget ({_options.DescribeBudget()}); model '{_model.Name}' is as it was. "
                    + string.Create(CultureInfo.InvariantCulture, $"The least costly of the {_tried.Count} tried, {leastCost!.Settings}, cost {leastCost.Cost:0.####} (bound {leastCost.Bound:0.####}). ")
                    + (Accuracy ? "Give a larger -MaxAccuracyDrop, or more validation rows (-ValidationFraction) to narrow the bound." : "Give a larger -MaxLossIncrease, or more validation rows (-ValidationFraction)."));
            return Result(null, leastCost, stopNote, stopped);
        }
        if (timedOut) _warn?.Invoke($"Compress-Mlp {stopNote} after {_tried.Count} candidate(s); model '{_model.Name}' is the best of them.");
        best.Candidate.Chosen = true;
        var settings = (_options.MaxAccuracyDrop is { } d ? new HistorySettings().Add("MaxAccuracyDrop", d) : new HistorySettings().Add("MaxLossIncrease", _options.MaxLossIncrease))
            .Add("Objective", _options.Objective).Add("ValidationFraction", _validationFraction).Add("ValidationRows", _validation.TestCount)
            .Add("Confidence", _options.Confidence).Add("Epochs", _epochs).Add("FineTuneEpochs", _options.FineTuneEpochs)
            .Add("Teacher", _options.Teacher?.Name)
            .Add("Candidates", _tried.Count).Add("Chosen", best.Candidate.Candidate);
        string note = string.Create(CultureInfo.InvariantCulture,
            $"reference validation {best.Candidate.MetricName} {_referenceMetric:0.####} on {_validation.TestCount} rows; chose #{best.Candidate.Candidate} {best.Candidate.Settings}: {best.Candidate.FileBytes} B ({best.Candidate.CompressionRatio:0.#}x the dense file), cost {best.Candidate.Cost:0.####}, bound {best.Candidate.Bound:0.####}")
            + (stopNote is null ? "" : $"; {stopNote}, the best so far kept")
            + "; tried " + string.Join(", ", _tried.Select(c => string.Create(CultureInfo.InvariantCulture, $"#{c.Candidate} {c.Stage} {c.FileBytes} B cost {c.Cost:0.####} {(c.WithinBudget ? "within" : "over")}")));
        ModelTransaction.Run(_model, () =>
        {
            var before = _model.Counts;
            _model.TakeStateOf(best.Model);
            // The candidates trained on the validation-carved set; later cmdlets use the set the user gave.
            _model.AttachDataset(_data);
            _model.Record("Compress", settings, before, new MetricResult(best.Candidate.MetricName, best.Candidate.ValidationMetric), note);
            return 0;
        });
        return Result(best.Candidate, leastCost, stopNote, stopped);
    }

    private CompressionSearchResult Result(CompressionCandidate? chosen, CompressionCandidate? leastCost, string? stopNote, bool stopped) => new()
    {
        Candidates = _tried.ToList(), Chosen = chosen, LeastCost = leastCost, MetricName = Accuracy ? "Accuracy" : "Loss",
        ReferenceMetric = _referenceMetric, ValidationRows = _validation?.TestCount ?? 0, StopNote = stopNote, Stopped = stopped, Elapsed = _clock.Elapsed,
    };

    private void Report(string status) =>
        _progress?.Invoke(new WorkProgress(status, Math.Min(_tried.Count, _estimatedCandidates), _estimatedCandidates));

    private string CandidateStatus(string settings) => $"Candidate {_tried.Count + 1}: {settings}";

    /// <summary>Training's progress shown under the status of the step it belongs to.</summary>
    private Action<WorkProgress>? Under(string status)
    {
        if (_progress is null) return null;
        return p => _progress(p.Under(status, Math.Min(_tried.Count, _estimatedCandidates), _estimatedCandidates));
    }

    /// <summary>Frees a copy's tensors now rather than when the GC finds it.</summary>
    private static void Discard(Mlp copy) => copy.ReplaceLayers(Array.Empty<LayerState>());
}
