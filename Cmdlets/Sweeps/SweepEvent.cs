namespace SparsePrune.Cmdlets;

/// <summary>What the dispatcher's worker threads tell the cmdlet's thread (the only one that may write to the pipeline).</summary>
internal abstract record SweepEvent
{
    /// <summary>A worker connected and holds the model: its machine and threads are known.</summary>
    public sealed record WorkerStarted(SweepWorker Worker) : SweepEvent;

    /// <summary>A worker could not start, or was lost (with the point it was running, which went back to the queue).</summary>
    public sealed record WorkerLost(SweepWorker Worker, string Reason, SweepPoint? Point) : SweepEvent;

    public sealed record PointDone(SweepResult Result) : SweepEvent;

    /// <summary>A point's own cmdlets failed (or it lost workers until it was given up).</summary>
    public sealed record PointFailed(SweepPoint Point, string Message, string? ErrorId, string Worker) : SweepEvent;
}
