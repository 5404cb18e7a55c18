namespace SparsePrune;

/// <summary>
/// Who may use a model at once: any number of threads reading it (predicting, reporting,
/// exporting, copying), or one thread changing it (training, sparsifying, pruning, quantizing,
/// choosing kernels). PowerShell runs each runspace on its own thread, so two runspaces given
/// the same model object (ForEach-Object -Parallel with $using:model) could otherwise train it
/// at once, or free a tensor one of them is still multiplying by. A thread that cannot have the
/// access it needs at once fails with ModelBusy instead of waiting: a training run holds its
/// model for minutes, and the remedy (a copy per runspace) is the user's to choose.
/// The same thread may nest accesses (a pipeline's stages run on one thread), except that it
/// cannot start changing a model it is reading.
/// </summary>
internal sealed class ModelAccess
{
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.SupportsRecursion);
    private volatile string? _changing;

    /// <summary>Holds read (<paramref name="change"/> false) or sole access until disposed.</summary>
    public IDisposable Enter(bool change, string operation, string model)
    {
        if (change)
        {
            if (_gate.IsReadLockHeld && !_gate.IsWriteLockHeld)
                throw Busy(model, $"{operation} cannot change model '{model}' while this pipeline is reading it");
            if (!_gate.TryEnterWriteLock(0))
                throw Busy(model, _changing is { } other
                    ? $"{other} is changing model '{model}' in another runspace or thread"
                    : $"model '{model}' is being read in another runspace or thread, so {operation} cannot change it now");
            var previous = _changing;
            _changing = operation;
            return new Release(() => { _changing = previous; _gate.ExitWriteLock(); });
        }
        if (!_gate.TryEnterReadLock(0))
            throw Busy(model, $"{_changing ?? "another command"} is changing model '{model}' in another runspace or thread");
        return new Release(_gate.ExitReadLock);
    }

    private static SparsePruneException Busy(string model, string what) => new("ModelBusy", ErrorKind.InvalidOperation,
        $"{what}. Wait for it to finish, or give each runspace its own model: Copy-Mlp before the parallel block, or Import-Mlp from a file in each.");

    private sealed class Release(Action release) : IDisposable
    {
        private Action? _release = release;
        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
