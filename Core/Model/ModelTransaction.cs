namespace SparsePrune;

/// <summary>
/// All or nothing for an operation that changes a model: the layers, baseline, data set,
/// history, input names and scaling, neuron origins and attachments are put back as they were
/// when the operation throws (a stop by Ctrl+C included, which the history then records).
/// Kept apart from <see cref="Mlp"/>, which holds the network; the model hands out and takes
/// back its state through <see cref="Mlp.Snapshot"/> and <see cref="Mlp.Restore"/>.
/// </summary>
internal static class ModelTransaction
{
    /// <summary>Runs <paramref name="change"/> on <paramref name="model"/>, on a copy of its layers to go back to.</summary>
    public static T Run<T>(Mlp model, Func<T> change)
    {
        var saved = model.State.Select(l => l.Clone()).ToList();
        var result = Run(model, change, undoLayers: () => model.ReplaceLayers(saved));
        foreach (var s in saved) s.Dispose();
        return result;
    }

    /// <summary>
    /// <see cref="Run{T}(Mlp, Func{T})"/> without a copy of the layers, for a change that can undo
    /// its own layer changes more cheaply (a sparsity step keeps its old masks):
    /// <paramref name="undoLayers"/> puts them back on an exception, then the rest of the model's
    /// state is restored here.
    /// </summary>
    public static T Run<T>(Mlp model, Func<T> change, Action undoLayers)
    {
        var before = model.Snapshot();
        try
        {
            return change();
        }
        catch (Exception failure)
        {
            try { undoLayers(); }
            catch (Exception undo)
            {
                // The layers could not be put back: say so rather than lose either error.
                throw new SparsePruneException("UndoFailed", ErrorKind.InvalidOperation,
                    $"The operation failed ({failure.Message}) and undoing it failed too ({undo.Message}); the model's weights may be part changed: reload it from a file or a copy.",
                    new AggregateException(failure, undo));
            }
            finally
            {
                model.Restore(before);
            }
            // Ctrl+C that could keep nothing: the step is undone, and the history says so.
            if (failure is OperationCanceledException) RecordStop(model);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> that does not change the model until its end (a search on
    /// copies); if it is stopped (Ctrl+C) the history says so, once.
    /// </summary>
    public static T RecordingStop<T>(Mlp model, Func<T> work)
    {
        int count = model.History.Count;
        try { return work(); }
        catch (OperationCanceledException)
        {
            if (model.History.Count == count) RecordStop(model);
            throw;
        }
    }

    private static void RecordStop(Mlp model) =>
        model.Record("Stop", HistorySettings.Empty, model.Counts, null, "stopped (Ctrl+C) before the step finished; the step was undone and the model is as it was before it");
}
