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
                $"LibTorch reported an error and the operation was undone: {e.Message}", e);
            ThrowTerminatingError(new ErrorRecord(wrapped, "NativeError", ErrorCategory.InvalidOperation, target));
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "FileAccessFailed", ErrorCategory.WriteError, target));
            throw;
        }
        catch (OutOfMemoryException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "OutOfMemory", ErrorCategory.ResourceUnavailable, target));
            throw;
        }
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

    /// <summary>A progress callback that writes one Write-Progress record per call.</summary>
    protected Action<TrainingProgress> TrainingProgressWriter(string activity, int activityId = 1)
    {
        return p =>
        {
            double done = p.Epochs == 0 ? 1 : ((p.Epoch - 1) + (double)p.Batch / Math.Max(1, p.Batches)) / p.Epochs;
            var record = new ProgressRecord(activityId, activity,
                $"Epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.Batches}, loss {p.Loss:0.#####}")
            {
                PercentComplete = (int)Math.Clamp(done * 100, 0, 100),
            };
            WriteProgress(record);
        };
    }

    protected void CompleteProgress(string activity, int activityId = 1) =>
        WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });

    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
