using System.Collections.Concurrent;
using System.Globalization;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Compress-Mlp's candidates made over the sweep engine's workers (worker processes, SSH hosts):
/// each worker is given the model as given, the data set and the teacher once, then one candidate
/// at a time; the session judges every candidate itself. A worker that is free takes the candidate
/// the search waits for, else the likeliest of those it may ask for next (the search says which),
/// so workers make ahead what a serial search would make later; which worker made a candidate, or
/// when, changes nothing of the model made (the same seed and LibTorch threads give the same bits).
/// A worker lost mid-candidate puts it back for another (up to <see cref="SweepDispatcher.MaxAttempts"/>
/// times); when no worker is left, the search fails with a clear error and the model is unchanged.
/// </summary>
internal sealed class WorkerCandidateMaker : CompressionCandidateMaker
{
    private sealed record Job(CompressionCandidateOrder Order, string Key, byte[]? BasisBytes, int Attempts = 1);

    /// <summary>A candidate a worker finished: its bytes, or its own error.</summary>
    private sealed record Outcome(byte[]? Model, double Seconds, string? Error, string? ErrorId, string Worker);

    private readonly IReadOnlyList<SweepWorker> _workers;
    private readonly string? _modulePath;
    private readonly int _threads;
    private readonly bool _datasetAsFile;
    private readonly Action<string> _verbose, _warn;
    private readonly object _gate = new();
    // Guarded by _gate: what is waiting (the needed candidate first), being made, and made.
    private readonly List<Job> _queue = new();
    private readonly HashSet<string> _running = new();
    private readonly Dictionary<string, Outcome> _done = new();
    private string? _awaited;
    private int _alive;
    private string? _lastLoss;
    // Written by the worker threads, said on the search's thread (the only one that may write to the pipeline).
    private readonly ConcurrentQueue<(bool Warning, string Text)> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, byte[]> _basisBytes = new();
    private List<Task> _tasks = new();
    private CompressionWork? _work;
    private string _recipeJson = "";
    private string? _datasetFile;

    /// <param name="datasetAsFile">The workers read this machine's files: the data set goes to them as a file, not through remoting.</param>
    public WorkerCandidateMaker(IReadOnlyList<SweepWorker> workers, string? modulePath, int threads, bool datasetAsFile, Action<string> verbose, Action<string> warn)
    {
        (_workers, _modulePath, _threads, _datasetAsFile, _verbose, _warn) = (workers, modulePath, threads, datasetAsFile, verbose, warn);
    }

    public override int Slots => _workers.Count;

    /// <summary>Candidates the search asked for; of those, how many a worker had begun or made before it asked.</summary>
    public int Asked { get; private set; }
    public int MadeAhead { get; private set; }
    /// <summary>Candidates made ahead that the search never asked for (yet).</summary>
    public int Unused { get { lock (_gate) return _done.Count; } }

    public override void Begin(CompressionWork work)
    {
        _work = work;
        _recipeJson = work.Recipe.ToJson();
        var modelBytes = SpmlpFormat.CanonicalBytes(work.Origin);
        var dataBytes = DatasetBytes.ToBytes(work.Data);
        if (_datasetAsFile) _datasetFile = InvokePruningSweepCommand.WriteDatasetFile(dataBytes);
        var teacherBytes = work.Teacher is null ? null : SpmlpFormat.CanonicalBytes(work.Teacher);
        var setup = new SweepWorkerSetup(_modulePath, modelBytes, _datasetFile is null ? dataBytes : null, _datasetFile, _threads,
            "compress", 0, false, teacherBytes);
        _alive = _workers.Count;
        _tasks = _workers.Select(w => Task.Factory.StartNew(() => Work(w, setup), TaskCreationOptions.LongRunning)).ToList();
    }

    public override CompressionCandidateMade? Make(CompressionCandidateOrder needed, IReadOnlyList<CompressionCandidateOrder> ahead,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        var work = _work ?? throw new InvalidOperationException("Begin was not called");
        string key = needed.Spec.ToJson();
        // The bases' bytes, made here (not under the lock the workers wait on), once per base.
        var jobs = new[] { needed }.Concat(ahead).Select(o => (Order: o, Key: o.Spec.ToJson())).DistinctBy(o => o.Key)
            .Select(o => new Job(o.Order, o.Key, BasisBytes(o.Order))).ToList();
        Outcome? outcome;
        lock (_gate)
        {
            Asked++;
            if (_done.ContainsKey(key) || _running.Contains(key)) MadeAhead++;
            _awaited = key;
            // What waited ahead for an earlier candidate gives way to what may follow this one.
            var waiting = _queue.ToDictionary(j => j.Key);
            _queue.Clear();
            foreach (var job in jobs)
                if (!_done.ContainsKey(job.Key) && !_running.Contains(job.Key))
                    _queue.Add(waiting.TryGetValue(job.Key, out var earlier) ? earlier : job);
            Monitor.PulseAll(_gate);
        }
        while (true)
        {
            lock (_gate)
            {
                if (_done.Remove(key, out outcome)) break;
                if (_alive == 0)
                {
                    Say();
                    throw SparsePruneException.Operation("CompressionWorkersLost",
                        $"Every worker of the search was lost or could not start (last: {_lastLoss}); the candidate {needed.Spec.Describe()} could not be made. The model is as it was: run Compress-Mlp again (without -ThrottleLimit or -HostName it runs in this session).");
                }
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(200));
            }
            Say();
            if (cancel.IsCancellationRequested)
            {
                lock (_gate) { _awaited = null; _queue.Clear(); }
                return null;
            }
        }
        Say();
        if (outcome.Error is { } error)
            throw new SparsePruneException(outcome.ErrorId is { Length: > 0 } id && !id.Contains(',') ? id : "CompressionCandidateFailed", ErrorKind.InvalidOperation,
                $"Worker {outcome.Worker} could not make the candidate {needed.Spec.Describe()}: {error}");
        var model = CompressionCandidateFactory.Received(outcome.Model!, needed.Basis ?? work.Origin, work.Validation, $"the candidate {needed.Spec.Describe()} from worker {outcome.Worker}");
        return new CompressionCandidateMade(model, true, TimeSpan.FromSeconds(outcome.Seconds));
    }

    private byte[]? BasisBytes(CompressionCandidateOrder order)
    {
        if (order.Basis is null || order.Spec.Basis is null) return null;
        string key = order.Spec.Basis.ToJson();
        if (!_basisBytes.TryGetValue(key, out var bytes)) _basisBytes[key] = bytes = SpmlpFormat.CanonicalBytes(order.Basis);
        return bytes;
    }

    /// <summary>Says what the workers reported (started, lost) on the caller's thread.</summary>
    private void Say()
    {
        while (_messages.TryDequeue(out var m)) (m.Warning ? _warn : _verbose)(m.Text);
    }

    private void Work(SweepWorker worker, SweepWorkerSetup setup)
    {
        var token = _stop.Token;
        try
        {
            worker.Start(setup);
        }
        catch (Exception e)
        {
            Lost(worker, $"Worker {worker.Name} could not start: {Reason(e)}", Reason(e), token);
            return;
        }
        _messages.Enqueue((false, $"Worker {worker.Name} started on {worker.ComputerName} with {worker.Threads} LibTorch thread(s)."));
        while (true)
        {
            Job job;
            lock (_gate)
            {
                // Timed: a stop that comes between the check and the wait is seen all the same.
                while (_queue.Count == 0 && !token.IsCancellationRequested) Monitor.Wait(_gate, TimeSpan.FromMilliseconds(500));
                if (token.IsCancellationRequested) return;
                job = _queue[0];
                _queue.RemoveAt(0);
                _running.Add(job.Key);
            }
            try
            {
                var (model, seconds, error, errorId) = worker.MakeCompressionCandidate(_recipeJson, job.Order.Spec.ToJson(), job.BasisBytes);
                lock (_gate)
                {
                    _running.Remove(job.Key);
                    _done[job.Key] = new Outcome(model, seconds, error, errorId, worker.Name);
                    // The search decides what follows from this one: nothing guessed before it is started meanwhile.
                    if (job.Key == _awaited) _queue.Clear();
                    Monitor.PulseAll(_gate);
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                var reason = Reason(e);
                worker.Stop();
                lock (_gate)
                {
                    _running.Remove(job.Key);
                    if (job.Key == _awaited)
                    {
                        if (job.Attempts >= SweepDispatcher.MaxAttempts)
                            _done[job.Key] = new Outcome(null, 0, $"the candidate was being made on {job.Attempts} workers in turn when each was lost (last: {reason}); it is not passed on again", "CompressionWorkersLost", worker.Name);
                        else _queue.Insert(0, job with { Attempts = job.Attempts + 1 });
                    }
                    // A candidate made ahead goes back only if the search asks for it again.
                }
                Lost(worker, $"Worker {worker.Name} was lost while making the candidate {job.Order.Spec.Describe()}: {reason}. The candidate goes to another worker.", reason, token);
                return;
            }
            catch (Exception)
            {
                // Stopped mid-candidate (Ctrl+C, the time limit, the end of the search): whatever the stop raised.
                return;
            }
        }
    }

    private void Lost(SweepWorker worker, string message, string reason, CancellationToken token)
    {
        lock (_gate)
        {
            _alive--;
            _lastLoss = $"{worker.Name}: {reason}";
            Monitor.PulseAll(_gate);
        }
        if (!token.IsCancellationRequested) _messages.Enqueue((true, message));
    }

    private static string Reason(Exception e)
    {
        var inner = e is System.Management.Automation.RuntimeException { InnerException: { } i } ? i : e;
        return inner.Message.Split('\n')[0].Trim();
    }

    /// <summary>Stops every worker (mid-candidate too) and ends their processes and connections.</summary>
    public override void Dispose()
    {
        _stop.Cancel();
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var w in _workers) w.Stop();
        try { Task.WaitAll(_tasks.ToArray(), TimeSpan.FromSeconds(10)); }
        catch (AggregateException) { }
        Parallel.ForEach(_workers, w => w.Dispose());
        _stop.Dispose();
        if (_datasetFile is not null) try { File.Delete(_datasetFile); } catch (IOException) { }
    }
}
