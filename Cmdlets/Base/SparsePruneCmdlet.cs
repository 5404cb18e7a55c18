using System.Management.Automation;
using System.Runtime.InteropServices;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Shared plumbing: turning Core and LibTorch exceptions into terminating ErrorRecords with
/// stable ids, Ctrl+C through a cancellation token, progress from Core callbacks.
/// The stop contract: Ctrl+C cancels <see cref="StopToken"/>; Core either stops at a safe
/// boundary and keeps what is finished (its result says Stopped, the history says where, and
/// the cmdlet warns), or undoes the step and throws OperationCanceledException, which
/// <see cref="Guard{T}"/> turns into a warning and the end of the pipeline.
/// </summary>
public abstract class SparsePruneCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>
    /// Whether this cmdlet changes the models it is given: it then takes sole access to a model
    /// for its work, where a reading cmdlet shares it (ModelBusy otherwise; see Mlp.Enter).
    /// </summary>
    protected virtual bool ChangesModel => false;

    /// <summary>
    /// Runs Core work; any failure becomes a terminating error naming <paramref name="target"/>.
    /// A model as the target is held for the work: shared by readers, alone by a changing cmdlet.
    /// </summary>
    protected T Guard<T>(object? target, Func<T> work)
    {
        try
        {
            using var access = target is Mlp model ? model.Enter(ChangesModel, MyInvocation.MyCommand.Name) : null;
            return work();
        }
        catch (SparsePruneException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, Category(e.Kind), target));
            throw; // unreachable: ThrowTerminatingError throws
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C where Core could keep nothing: it undid the step (the model is as it was, and
            // a model-changing step says so in the history). The pipeline is stopping: end it.
            try { WriteWarning($"{MyInvocation.MyCommand.Name} was stopped before it finished; the model is as it was before it started."); }
            catch (PipelineStoppedException) { }
            throw new PipelineStoppedException();
        }
        catch (ExternalException e)
        {
            var wrapped = new SparsePruneException("NativeError", ErrorKind.Native,
                $"LibTorch reported an error and the operation was undone: {NativeSummary(e.Message)} (the full native message is in the exception's InnerException).", e);
            ThrowTerminatingError(new ErrorRecord(wrapped, "NativeError", ErrorCategory.InvalidOperation, target));
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var category = e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable;
            ThrowTerminatingError(new ErrorRecord(e, "FileAccessFailed", category, target));
            throw;
        }
        catch (OutOfMemoryException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "OutOfMemory", ErrorCategory.ResourceUnavailable, target));
            throw;
        }
    }

    /// <summary>LibTorch's first line: what went wrong, without the C++ stack that follows it.</summary>
    internal static string NativeSummary(string message)
    {
        var cut = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        var head = (cut >= 0 ? message[..cut] : message).Trim();
        var newline = head.IndexOf('\n');
        return newline >= 0 ? head[..newline].Trim() : head;
    }

    protected void Guard(object? target, Action work) => Guard<object?>(target, () => { work(); return null; });

    protected void Fail(string errorId, ErrorKind kind, string message, object? target) =>
        ThrowTerminatingError(new ErrorRecord(new SparsePruneException(errorId, kind, message), errorId, Category(kind), target));

    internal static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        ErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.NotSupported => ErrorCategory.InvalidData,
        ErrorKind.Native => ErrorCategory.InvalidOperation,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>The data set to use: the one given, else the one the model was trained on.</summary>
    protected Dataset? DatasetFor(Mlp model, Dataset? given) => given ?? model.Dataset;

    protected Dataset RequireDataset(Mlp model, Dataset? given, string purpose)
    {
        var data = DatasetFor(model, given);
        if (data is null)
            Fail("NoDataset", ErrorKind.InvalidArgument,
                $"{purpose} needs a data set: model '{model.Name}' has not been trained on one, so give -Dataset (e.g. -Dataset (Get-Dataset Digits)).", model);
        return data!;
    }

    /// <summary>Says so when the baseline is about to be recorded without a metric.</summary>
    protected void WarnIfBaselineHasNoMetric(Mlp model, Dataset? data)
    {
        if (data is null && model.Baseline is null)
            WriteWarning($"Model '{model.Name}' has no data set, so its baseline is recorded without a metric and the report cannot show what compression cost. Give -Dataset (or Import-Mlp -Dataset) to record it.");
    }

    private readonly HashSet<int> _openBars = new();

    /// <summary>
    /// A message writer (WriteWarning, WriteVerbose) for Core to call during its work. After
    /// Ctrl+C, PowerShell's Write* methods throw PipelineStoppedException; thrown inside Core's
    /// loop it would undo the whole step (Compress-Mlp lost the best candidate it had when a
    /// candidate finished just as the stop came). Here the message is dropped and the work is
    /// cancelled instead, so that it stops at its next safe point, as <see cref="ProgressWriter"/> does.
    /// </summary>
    protected Action<string> CoreWriter(Action<string> write) => text =>
    {
        if (_stop.IsCancellationRequested) return;
        try { write(text); }
        catch (PipelineStoppedException) { _stop.Cancel(); }
    };

    /// <summary>
    /// The one progress callback every cmdlet hands to Core: the operation's status as bar 1,
    /// the training it runs as bar 2 under it (bar 1 itself when the operation only trains).
    /// </summary>
    protected Action<WorkProgress> ProgressWriter(string activity)
    {
        string? lastStatus = null;
        return p =>
        {
            // After Ctrl+C, WriteProgress would throw PipelineStoppedException inside Core's loop,
            // and the step would be undone; the loop sees the token and stops at a safe point instead.
            if (_stop.IsCancellationRequested) return;
            try
            {
                if (p.Status is { } status && status != lastStatus)
                {
                    lastStatus = status;
                    WriteBar(new ProgressRecord(1, activity, status) { PercentComplete = p.PercentComplete });
                }
                if (p.Training is { } t)
                {
                    double done = t.Epochs == 0 ? 1 : ((t.Epoch - 1) + (double)t.Batch / Math.Max(1, t.Batches)) / t.Epochs;
                    bool child = p.Status is not null;
                    WriteBar(new ProgressRecord(child ? 2 : 1, child ? activity + ": training" : activity,
                        $"Epoch {t.Epoch}/{t.Epochs}, batch {t.Batch}/{t.Batches}, loss {t.Loss:0.#####}")
                    {
                        PercentComplete = (int)Math.Clamp(done * 100, 0, 100),
                        ParentActivityId = child ? 1 : -1,
                    });
                }
            }
            catch (PipelineStoppedException) { _stop.Cancel(); }
        };
    }

    private void WriteBar(ProgressRecord record)
    {
        _openBars.Add(record.ActivityId);
        WriteProgress(record);
    }

    /// <summary>
    /// Runs long Core work with a progress bar under <paramref name="activity"/>, through
    /// <see cref="Guard{T}"/> (errors and the stop contract), and completes the bar however it ends.
    /// </summary>
    protected T RunWithProgress<T>(string activity, object? target, Func<Action<WorkProgress>, T> work)
    {
        try { return Guard(target, () => work(ProgressWriter(activity))); }
        finally { CompleteProgress(activity); }
    }

    /// <summary>Completes the bars <see cref="ProgressWriter"/> opened (children first).</summary>
    protected void CompleteProgress(string activity)
    {
        if (_openBars.Remove(2))
            WriteProgress(new ProgressRecord(2, activity + ": training", "Done") { ParentActivityId = 1, RecordType = ProgressRecordType.Completed });
        if (_openBars.Remove(1))
            WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
    }

    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
