using System.Diagnostics;
using System.Globalization;

namespace SparsePrune;

/// <summary>
/// One run of <see cref="CompressionSearch"/>: the validation split, the reference, the candidates
/// tried so far and the best of them. Candidates are copies; the model itself changes once, at the
/// end, into the chosen candidate. The run asks its <see cref="CompressionCandidateMaker"/> for one
/// candidate at a time, saying which it may ask for next, and judges each itself as it comes: every
/// decision is taken here, in the same order, from the same results, whoever made the candidates.
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
    private readonly CompressionCandidateMaker _maker;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<CompressionCandidate> _tried = new();
    // Pruned candidates within the budget, kept as bases for weight sharing (sparsest first at the end).
    private readonly List<(CompressionCandidate Candidate, Mlp Model)> _bases = new();
    private (CompressionCandidate Candidate, Mlp Model)? _best;
    // What each candidate was made of, for the specs of those that start from it.
    private readonly Dictionary<CompressionCandidate, CompressionCandidateSpec> _specs = new(ReferenceEqualityComparer.Instance);
    private CancellationTokenSource _limit = null!;
    private Dataset _validation = null!;
    private TrainingOptions _training = null!;
    private CompressionRecipe _recipe = null!;
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
        Action<string>? warn, Action<CompressionCandidate>? tried, CompressionCandidateMaker maker)
    {
        (_model, _data, _options, _progress, _userStop, _warn, _triedOne, _maker) = (model, data, options, progress, cancel, warn, tried, maker);
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
            _recipe = new CompressionRecipe
            {
                Seed = seed, ValidationFraction = _validationFraction, Epochs = _epochs, FineTuneEpochs = _options.FineTuneEpochs,
                BatchSize = _options.BatchSize, Objective = _options.Objective,
            };
            _training = _recipe.Training(_options.Teacher);
            _maker.Begin(new CompressionWork(origin, _data, _validation, _recipe, _training, _options.Teacher));
            _estimatedCandidates = 1 + 4 + (_options.Objective == CompressionObjective.FileSize ? 2 * CompressionSearch.SharingBases + 2 : 3);
            bool neurons = _options.Objective != CompressionObjective.FileSize;
            var connections = OpenLevels(origin, PruneStructure.Connection, CompressionSearch.ConnectionLevels);
            var hidden = neurons ? OpenLevels(origin, PruneStructure.Neuron, CompressionSearch.NeuronLevels) : Array.Empty<double>();
            // The neuron stage starts from the model as given, whatever the connection stage finds: ahead of it from the start.
            var neuronStage = Bisection(PruneStructure.Neuron, hidden, -1, hidden.Length, next: true);
            if (!Reference(Likeliest(Bisection(PruneStructure.Connection, connections, -1, connections.Length, next: true), neuronStage))) return Finish();
            PruningStage(PruneStructure.Connection, connections, neuronStage);
            if (neurons) PruningStage(PruneStructure.Neuron, hidden, Array.Empty<(CompressionCandidateOrder, double)>());
            else { SharingStage(); LeanStage(); }
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
    private bool Reference(IReadOnlyList<CompressionCandidateOrder> ahead)
    {
        Mlp? reference = null;
        try
        {
            const string status = "Reference: the model as given, trained as long as a candidate on the same rows";
            Report(status);
            var made = _maker.Make(new CompressionCandidateOrder(new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Reference }, null), ahead, Under(status), _limit.Token);
            if (made is null) return false;
            reference = made.Model;
            if (!made.Completed || Ended) return false;
            _referenceRows = RowScores.Of(reference, _validation);
            _referenceMetric = Evaluator.Evaluate(reference, _validation).Value;
            return true;
        }
        catch (OperationCanceledException) when (Ended) { return false; }
        finally { if (reference is not null) Discard(reference); }
    }

    /// <summary>The levels above the ratio the model as given already has.</summary>
    private double[] OpenLevels(Mlp origin, PruneStructure structure, double[] levels)
    {
        double start = Pruner.CurrentRatio(origin, _recipe.Request(structure));
        return levels.Where(l => l > start + 1e-9).ToArray();
    }

    /// <summary>
    /// Bisects <paramref name="open"/> for the highest ratio of <paramref name="structure"/> within
    /// the budget. <paramref name="after"/>: what the search tries after this stage whatever it
    /// finds, for a maker with workers to start early.
    /// </summary>
    private void PruningStage(PruneStructure structure, double[] open, IReadOnlyList<(CompressionCandidateOrder Order, double Chance)> after)
    {
        int lo = -1, hi = open.Length;
        (CompressionCandidate Candidate, Mlp Model)? sparsest = null;
        while (hi - lo > 1 && !Ended)
        {
            int mid = lo + (hi - lo + 1) / 2;
            var further = Bisection(structure, open, lo, hi, next: false);
            var ahead = Likeliest(further, after);
            // The last step of the connection bisection: whatever it finds, the sparsest candidate
            // within the budget so far is one of the two weight sharing starts from, so its 3 bits
            // (and what may follow them) can be made meanwhile.
            if (further.Count == 0 && sparsest is { } s && structure == PruneStructure.Connection && _options.Objective == CompressionObjective.FileSize)
                ahead.AddRange(SharingAhead(new() { s }, 0, CompressionSearch.FirstBits).Prepend(new CompressionCandidateOrder(BitsSpec(s.Candidate, CompressionSearch.FirstBits), s.Model)));
            var tried = TryPruning(structure, open[mid], ahead);
            if (tried is null) return;
            if (tried.WithinBudget)
            {
                lo = mid;
                if (structure == PruneStructure.Connection) sparsest = _bases[^1];
            }
            else hi = mid;
        }
    }

    /// <summary>
    /// The candidates the bisection of (<paramref name="lo"/>, <paramref name="hi"/>) may try, each
    /// with the chance that it will (a half per step: each step's candidate is within the budget
    /// or not), the nearer first and, of two at one depth, the sparser (within) first. With
    /// <paramref name="next"/> false the midpoint itself, which is tried now, is left out.
    /// </summary>
    private List<(CompressionCandidateOrder Order, double Chance)> Bisection(PruneStructure structure, double[] open, int lo, int hi, bool next)
    {
        var found = new List<(CompressionCandidateOrder, double)>();
        var queue = new Queue<(int Lo, int Hi, double Chance)>();
        queue.Enqueue((lo, hi, 1));
        while (queue.Count > 0)
        {
            var (l, h, chance) = queue.Dequeue();
            if (h - l <= 1) continue;
            int m = l + (h - l + 1) / 2;
            if (next || l != lo || h != hi) found.Add((new CompressionCandidateOrder(CompressionCandidateSpec.Pruning(structure, open[m]), null), chance));
            queue.Enqueue((m, h, chance / 2));
            queue.Enqueue((l, m, chance / 2));
        }
        return found;
    }

    /// <summary>The candidates of both lists, the likeliest to be needed first (the first list first on a tie).</summary>
    private static List<CompressionCandidateOrder> Likeliest(IEnumerable<(CompressionCandidateOrder Order, double Chance)> first, IEnumerable<(CompressionCandidateOrder Order, double Chance)> then) =>
        first.Select((x, i) => (x.Order, x.Chance, Rank: i)).Concat(then.Select((x, i) => (x.Order, x.Chance, Rank: 1000 + i)))
            .OrderByDescending(x => x.Chance).ThenBy(x => x.Rank).Select(x => x.Order).ToList();

    private CompressionCandidate? TryPruning(PruneStructure structure, double ratio, IReadOnlyList<CompressionCandidateOrder> ahead)
    {
        var spec = CompressionCandidateSpec.Pruning(structure, ratio);
        var request = _recipe.Request(structure, ratio);
        var settings = request.Describe().Concat(_recipe.Schedule(request, _validation.TrainCount, _training).Describe());
        return Try(spec.Stage, settings.ToString(), new CompressionCandidateOrder(spec, null), ahead, keepAsBase: structure == PruneStructure.Connection);
    }

    private static long SizeOf(Mlp model) => CompressionCandidateFactory.SizeOf(model);

    /// <summary>k-means on the sparsest pruned candidates within the budget: 3 bits, then 2 when it holds, else 4 to 6.</summary>
    private void SharingStage()
    {
        var bases = _bases.OrderByDescending(b => b.Candidate.PruningRatio).Take(CompressionSearch.SharingBases).ToList();
        for (int i = 0; i < bases.Count; i++)
        {
            var (candidate, pruned) = bases[i];
            if (Ended) return;
            var at3 = TryBits(candidate, pruned, CompressionSearch.FirstBits, SharingAhead(bases, i, CompressionSearch.FirstBits));
            if (at3 is null) return;
            if (at3.WithinBudget)
            {
                if (TryBits(candidate, pruned, CompressionSearch.FewestBits, SharingAhead(bases, i, CompressionSearch.FewestBits)) is null) return;
                continue;
            }
            for (int bits = CompressionSearch.FirstBits + 1; bits <= CompressionSearch.MostBits && !Ended; bits++)
            {
                var more = TryBits(candidate, pruned, bits, SharingAhead(bases, i, bits));
                if (more is null) return;
                if (more.WithinBudget) break;
            }
        }
    }

    /// <summary>
    /// What the sharing stage may try after <paramref name="bits"/> bits on base <paramref name="at"/>,
    /// the likeliest first: on this base, 2 or 4 bits after 3 (a half each), each further bit after
    /// 4 half as likely again; on each later base, 3 bits certainly, then as on this one.
    /// </summary>
    private List<CompressionCandidateOrder> SharingAhead(List<(CompressionCandidate Candidate, Mlp Model)> bases, int at, int bits)
    {
        var found = new List<(CompressionCandidateOrder Order, double Chance)>();
        void Add(int b, int k, double chance) => found.Add((new CompressionCandidateOrder(BitsSpec(bases[b].Candidate, k), bases[b].Model), chance));
        void After(int b, int k, double chance)
        {
            if (k == CompressionSearch.FirstBits) Add(b, CompressionSearch.FewestBits, chance / 2);
            if (k == CompressionSearch.FewestBits) return;
            for (int more = k + 1; more <= CompressionSearch.MostBits; more++) Add(b, more, chance / Math.Pow(2, more - k));
        }
        After(at, bits, 1);
        for (int b = at + 1; b < bases.Count; b++)
        {
            Add(b, CompressionSearch.FirstBits, 1);
            After(b, CompressionSearch.FirstBits, 1);
        }
        return Likeliest(found, Array.Empty<(CompressionCandidateOrder, double)>());
    }

    private CompressionCandidateSpec BitsSpec(CompressionCandidate basis, int bits) =>
        new() { Stage = CompressionCandidateSpec.Bits, CodeBits = bits, Basis = _specs[basis] };

    private const int LeanBiasBits = CompressionCandidateFactory.LeanBiasBits;
    private const int LeanScaleBits = CompressionCandidateFactory.LeanScaleBits;

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
        var exactSpec = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Lean, LeanKind = CompressionCandidateSpec.LeanExact, Basis = _specs[best.Candidate] };
        var exact = Try("Lean", folded, new CompressionCandidateOrder(exactSpec, best.Model), Array.Empty<CompressionCandidateOrder>(),
            keepAsBase: false, bits: best.Candidate.Bits, basis: best.Candidate);
        if (exact is null || Ended || _best is not { } foldedBest || !ReferenceEquals(foldedBest.Candidate, exact)) return;
        string lossy = $"FoldInputScaling ScaleBits={LeanScaleBits}; BiasBits={LeanBiasBits} after #{best.Candidate.Candidate}: {best.Candidate.Settings}";
        var lossySpec = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Lean, LeanKind = CompressionCandidateSpec.LeanRounded, Basis = exactSpec };
        Try("Lean", lossy, new CompressionCandidateOrder(lossySpec, foldedBest.Model), Array.Empty<CompressionCandidateOrder>(),
            keepAsBase: false, bits: best.Candidate.Bits, basis: best.Candidate);
    }

    private CompressionCandidate? TryBits(CompressionCandidate basis, Mlp pruned, int bits, IReadOnlyList<CompressionCandidateOrder> ahead)
    {
        // The bits first, so that a progress bar's cut keeps them; then the pruned candidate it starts from.
        string settings = $"Method=KMeans Bits={bits} FineTuneEpochs={_options.FineTuneEpochs} after #{basis.Candidate}: {basis.Settings}";
        return Try("Bits", settings, new CompressionCandidateOrder(BitsSpec(basis, bits), pruned), ahead, keepAsBase: false, bits: bits, basis: basis);
    }

    /// <summary>
    /// Has the maker make <paramref name="order"/> (and perhaps start <paramref name="ahead"/>) and
    /// judges it; null when the search ended (Ctrl+C, the time limit) before the candidate was
    /// done, which is then dropped. Only the candidates asked for here are judged, numbered and
    /// listed: one a maker made ahead that the search never asks for is not.
    /// </summary>
    private CompressionCandidate? Try(string stage, string settings, CompressionCandidateOrder order, IReadOnlyList<CompressionCandidateOrder> ahead, bool keepAsBase,
        int? bits = null, CompressionCandidate? basis = null)
    {
        if (Ended) return null;
        var started = _clock.Elapsed;
        Report(CandidateStatus(settings));
        Mlp? copy = null;
        try
        {
            var made = _maker.Make(order, _maker.Slots > 1 ? ahead : Array.Empty<CompressionCandidateOrder>(), Under(CandidateStatus(settings)), _limit.Token);
            if (made is null) return null;
            copy = made.Model;
            if (!made.Completed || Ended) { Discard(copy); return null; }
            var judging = _clock.Elapsed;
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
                // Made by a worker (perhaps ahead of the search): the time it took there, and the judging here.
                Seconds = ((made.Took is { } took ? took + (_clock.Elapsed - judging) : _clock.Elapsed - started)).TotalSeconds,
                Totals = new CompressionTotals(counts, fileBytes, _denseFileBytes),
            };
            _tried.Add(candidate);
            _specs[candidate] = order.Spec;
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
    private static void Discard(Mlp copy) => CompressionCandidateFactory.Discard(copy);
}
