using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace SparsePrune;

/// <summary>
/// The threads of the kernels' parallel loops. A loop's parts run on the calling thread and on
/// workers that, once a loop is done, keep polling for the next one for about a millisecond
/// before they sleep: a model's layers follow each other within microseconds, and waking a
/// sleeping thread-pool thread cost about 60 µs per loop on this project's virtual machines
/// (Parallel.For of two 40 µs parts took 99 µs), more than a whole small layer. LibTorch's
/// OpenMP threads and ONNX Runtime's pool wait the same way. After 50 µs a polling worker yields its core
/// at every look: polling hard all the while, it kept LibTorch's own threads off the cores between
/// two products and a LeNet training step took 2.2 ms instead of 1.4. Which thread runs a part does not
/// matter to the result: the parts are fixed by the caller. One loop runs at a time; a loop
/// started while another runs (another runspace, a nested loop) takes Parallel.For. A part that
/// throws does not stop the others; the first exception is rethrown once all are done.
/// </summary>
internal static class KernelThreads
{
    /// <summary>How long an idle worker keeps polling before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;
    /// <summary>How long it polls without yielding first (the next layer of a pass follows within microseconds).</summary>
    private static readonly long HardSpinTicks = Stopwatch.Frequency / 20000;

    /// <summary>1 while a loop runs (not a Monitor: that would let a nested loop on the same thread in).</summary>
    private static int _busy;
    private static readonly List<Worker> Workers = new();

    // The loop now running: its body and part count, parts finished, and its ticket: the loop's
    // generation (high 32 bits) and the next part to take (low 32 bits). A part is taken by a
    // compare-and-swap on the whole ticket, so a worker still holding a finished loop's body can
    // never take a part of the next loop.
    private static Action<int>? _body;
    private static int _parts, _finished;
    private static long _ticket;
    private static Exception? _failure;

    private static int GenerationOf(long ticket) => (int)(ticket >> 32);

    /// <summary>Runs <paramref name="body"/>(0 .. parts - 1), each part once, and returns when all are done.</summary>
    public static void For(int parts, Action<int> body)
    {
        if (parts <= 1) { if (parts == 1) body(0); return; }
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body);
            return;
        }
        try
        {
            while (Workers.Count < parts - 1) Workers.Add(new Worker(Workers.Count));
            _body = body;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _finished, 0);
            int generation = GenerationOf(Volatile.Read(ref _ticket)) + 1;
            Volatile.Write(ref _ticket, (long)generation << 32);
            for (int w = 0; w < parts - 1; w++) Workers[w].Wake();
            TakeParts(generation);
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished) < parts) spin.SpinOnce(sleep1Threshold: -1);
            _body = null;
            if (_failure is { } e) ExceptionDispatchInfo.Capture(e).Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Takes and runs parts of loop <paramref name="generation"/> until none is left (nothing if that loop is over).</summary>
    private static void TakeParts(int generation)
    {
        var body = _body;
        int parts = _parts;
        // The body and count read above belong to this generation only while its ticket is still out.
        if (body is null || GenerationOf(Volatile.Read(ref _ticket)) != generation) return;
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int part = (int)(ticket & 0xFFFFFFFF);
            if (GenerationOf(ticket) != generation || part >= parts) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            try { body(part); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            finally { Interlocked.Increment(ref _finished); }
        }
    }

    /// <summary>A background thread that runs parts of each loop it sees.</summary>
    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping, _seen;

        public Worker(int index)
        {
            _seen = GenerationOf(Volatile.Read(ref _ticket));
            new Thread(Run) { IsBackground = true, Name = $"SparsePrune kernel {index + 1}" }.Start();
        }

        /// <summary>Called by the loop's owner after it published a loop: a sleeping worker is woken.</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Run()
        {
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                while (GenerationOf(Volatile.Read(ref _ticket)) == _seen)
                {
                    long waited = Stopwatch.GetTimestamp() - start;
                    if (waited < HardSpinTicks) { Thread.SpinWait(20); continue; }
                    if (waited < SpinTicks) { Thread.Yield(); continue; }
                    // Announce sleep, then look once more, so that a loop published in between is not missed.
                    Volatile.Write(ref _sleeping, 1);
                    if (GenerationOf(Volatile.Read(ref _ticket)) != _seen)
                    {
                        // Either we take our announcement back, or the owner already released us: consume that.
                        if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();
                        break;
                    }
                    _wake.Wait();
                    start = Stopwatch.GetTimestamp();
                }
                _seen = GenerationOf(Volatile.Read(ref _ticket));
                TakeParts(_seen);
            }
        }
    }
}
