namespace SparsePrune;

/// <summary>
/// LibTorch's OpenMP thread count for the calling thread only. While the module's own kernels
/// do a training step's products on their own threads, LibTorch's parallel operations in between
/// (copies, gradient sums, batch gathers) woke OpenMP threads that then contended with the
/// kernels' for the same cores: a LeNet-300-100 step took 1.6 ms with both on 2 threads, 1.0 ms
/// with LibTorch on one. OpenMP keeps the count per thread (omp_set_num_threads), so a setting
/// made here touches no other runspace's thread, unlike torch.set_num_threads, which also
/// changes the count every thread starts with.
/// </summary>
internal static unsafe class OpenMpThreads
{
    private static nint _get, _set;

    private static delegate* unmanaged<int> Get => (delegate* unmanaged<int>)(_get != 0 ? _get : _get = NativeLibraries.Export("omp_get_max_threads"));
    private static delegate* unmanaged<int, void> Set => (delegate* unmanaged<int, void>)(_set != 0 ? _set : _set = NativeLibraries.Export("omp_set_num_threads"));

    /// <summary>Runs LibTorch on one thread on the calling thread until the result is disposed (a no-op where OpenMP is not reachable).</summary>
    public static IDisposable Single()
    {
        if (Get == null || Set == null) return new Restore(0);
        int before = Get();
        Set(1);
        return new Restore(before);
    }

    private sealed class Restore : IDisposable
    {
        private int _count;
        public Restore(int count) => _count = count;
        public void Dispose()
        {
            if (_count > 0 && Set != null) Set(_count);
            _count = 0;
        }
    }
}
