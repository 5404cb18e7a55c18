using System.Management.Automation;
using System.Runtime.InteropServices;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Shared plumbing: turning Core and LibTorch exceptions into terminating ErrorRecords with
/// stable ids, Ctrl+C through a cancellation token, progress from Core callbacks.
/// </summary>
public abstract class SparsePruneCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>Runs Core work; any failure becomes a terminating error naming <paramref name="target"/>.</summary>
    protected T Guard<T>(object? target, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (SparsePruneException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, Category(e.Kind), target));
            throw; // unreachable: ThrowTerminatingError throws
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

    /// <summary>A progress callback that writes one Write-Progress record per call.</summary>
    protected Action<TrainingProgress> TrainingProgressWriter(string activity, int activityId = 1, int parentId = -1)
    {
        return p =>
        {
            // After Ctrl+C, WriteProgress would throw PipelineStoppedException inside the training
            // loop, and the step would be undone; the loop sees the token and stops at a batch instead.
            if (_stop.IsCancellationRequested) return;
            double done = p.Epochs == 0 ? 1 : ((p.Epoch - 1) + (double)p.Batch / Math.Max(1, p.Batches)) / p.Epochs;
            var record = new ProgressRecord(activityId, activity,
                $"Epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.Batches}, loss {p.Loss:0.#####}")
            {
                PercentComplete = (int)Math.Clamp(done * 100, 0, 100),
                ParentActivityId = parentId,
            };
            try { WriteProgress(record); }
            catch (PipelineStoppedException) { _stop.Cancel(); }
        };
    }

    /// <summary>Schedule progress: its status as one bar, the training it does as a child bar.</summary>
    protected Action<ScheduleProgress> ScheduleProgressWriter(string activity)
    {
        var training = TrainingProgressWriter(activity + ": training", 2, parentId: 1);
        string? lastStatus = null;
        return p =>
        {
            if (_stop.IsCancellationRequested) return;
            if (p.Status != lastStatus)
            {
                lastStatus = p.Status;
                var record = new ProgressRecord(1, activity, p.Status) { PercentComplete = (int)Math.Clamp(100.0 * (p.Round - 1) / Math.Max(1, p.Rounds), 0, 100) };
                try { WriteProgress(record); }
                catch (PipelineStoppedException) { _stop.Cancel(); }
            }
            if (p.Training is { } t) training(t);
        };
    }

    protected void CompleteScheduleProgress(string activity)
    {
        WriteProgress(new ProgressRecord(2, activity + ": training", "Done") { ParentActivityId = 1, RecordType = ProgressRecordType.Completed });
        CompleteProgress(activity);
    }

    protected void CompleteProgress(string activity, int activityId = 1) =>
        WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });

    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
