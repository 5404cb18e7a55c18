using System.Collections.Concurrent;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Runs the points of a sweep over its workers: each worker takes the next point from one queue
/// when it is free, so fast workers do more. A worker lost mid-point puts that point back in the
/// queue for the others (the result then says so), and a point is completed exactly once; a
/// point that takes down <see cref="MaxAttempts"/> workers in turn is reported as failed rather
/// than passed on again.
/// </summary>
internal sealed class SweepDispatcher : IDisposable
{
    public const int MaxAttempts = 3;

    private sealed record Job(SweepPoint Point, int Attempts, string? Note);

    private readonly BlockingCollection<Job> _pending = new();
    private readonly CancellationTokenSource _stop;
    private readonly IReadOnlyList<SweepWorker> _workers;
    private readonly List<Task> _threads;
    private readonly SweepWorkerSetup _setup;
    private int _remaining;

    /// <summary>What the workers report; read it on the pipeline thread.</summary>
    public BlockingCollection<SweepEvent> Events { get; } = new();

    public SweepDispatcher(IReadOnlyList<SweepWorker> workers, IReadOnlyList<SweepPoint> points, SweepWorkerSetup setup, CancellationToken stop)
    {
        _workers = workers;
        _setup = setup;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        foreach (var p in points) _pending.Add(new Job(p, 1, null));
        _remaining = points.Count;
        if (_remaining == 0) _pending.CompleteAdding();
        _threads = workers.Select(w => Task.Factory.StartNew(() => Work(w), TaskCreationOptions.LongRunning)).ToList();
    }

    private void Work(SweepWorker worker)
    {
        var token = _stop.Token;
        try
        {
            worker.Start(_setup);
        }
        catch (Exception e)
        {
            if (!token.IsCancellationRequested) Events.Add(new SweepEvent.WorkerLost(worker, Reason(e), null));
            return;
        }
        Events.Add(new SweepEvent.WorkerStarted(worker));
        try
        {
            foreach (var job in _pending.GetConsumingEnumerable(token))
            {
                try
                {
                    var result = worker.Run(job.Point, _setup.PassThru);
                    Events.Add(new SweepEvent.PointDone(job.Attempts > 1 ? result.WithAttempts(job.Attempts, job.Note) : result));
                    Complete();
                }
                catch (SweepPointFailedException f)
                {
                    Events.Add(new SweepEvent.PointFailed(job.Point, f.Message, f.ErrorId, worker.Name));
                    Complete();
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    var reason = Reason(e);
                    worker.Stop();
                    if (job.Attempts >= MaxAttempts)
                    {
                        Events.Add(new SweepEvent.PointFailed(job.Point,
                            $"the point was running on {job.Attempts} workers in turn when each was lost (last: {worker.Name}: {reason}); it is not passed on again", "SweepPointLostWorkers", worker.Name));
                        Complete();
                    }
                    else
                    {
                        // Back in the queue before the event, so the point is never without an owner.
                        _pending.Add(job with { Attempts = job.Attempts + 1, Note = $"worker {worker.Name} was lost while running it: {reason}" });
                    }
                    Events.Add(new SweepEvent.WorkerLost(worker, reason, job.Point));
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Stopped mid-point (Ctrl+C): the point's call ends with whatever the stop raised.
        }
    }

    private void Complete()
    {
        if (Interlocked.Decrement(ref _remaining) == 0) _pending.CompleteAdding();
    }

    private static string Reason(Exception e)
    {
        var inner = e is System.Management.Automation.RuntimeException { InnerException: { } i } ? i : e;
        return inner.Message.Split('\n')[0].Trim();
    }

    /// <summary>Stops every worker (a running point too) and ends their processes and connections.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        foreach (var w in _workers) w.Stop();
        try { Task.WaitAll(_threads.ToArray(), TimeSpan.FromSeconds(10)); }
        catch (AggregateException) { } // a worker thread's own failure: the workers are ended below all the same
        Parallel.ForEach(_workers, w => w.Dispose());
        _stop.Dispose();
    }
}
