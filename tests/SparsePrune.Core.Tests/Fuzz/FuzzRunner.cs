using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// Runs a reader over mutated files and holds it to the contract: every case either loads or
/// raises SparsePruneException, within <see cref="CaseLimit"/>, allocating no more than the
/// file's size and the weights it declares account for. Case k is made by a generator seeded
/// from the run's seed and k alone, so a failing case can be made again from its number
/// (SPARSEPRUNE_FUZZ_FIRST=k, SPARSEPRUNE_FUZZ_CASES=1); its bytes are also written under the
/// test output folder (fuzz-failures/).
/// </summary>
internal sealed class FuzzRunner
{
    public static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(2);

    /// <summary>What was loaded: how many weights it holds (0 for a data set), after it was disposed.</summary>
    public delegate long Reader(byte[] bytes, Random rng);

    /// <summary>Cases per reader: SPARSEPRUNE_FUZZ_CASES (bench/fuzz.ps1 sets it), 20,000 by default.</summary>
    public static int Cases => EnvInt("SPARSEPRUNE_FUZZ_CASES", 20_000);

    private static int Seed => EnvInt("SPARSEPRUNE_FUZZ_SEED", 1);

    private static int First => EnvInt("SPARSEPRUNE_FUZZ_FIRST", 0);

    private const int SavedFailures = 20;

    private readonly string _reader;
    private readonly Func<Random, byte[]> _makeCase;
    private readonly Reader _read;
    private readonly Func<byte[], long> _declaredWeights;
    private readonly List<string> _failures = new();
    private readonly Dictionary<string, int> _refusals = new();
    private int _loaded;
    private long _caseStarted; // Stopwatch timestamp of the running case; 0 between cases
    private int _case;
    private byte[] _bytes = Array.Empty<byte>();

    /// <param name="declaredWeights">
    /// The weights a (damaged) file declares by its own shape fields, for the allocation bound;
    /// asked only when a case allocates more than its size alone accounts for.
    /// </param>
    public FuzzRunner(string reader, Func<Random, byte[]> makeCase, Reader read, Func<byte[], long>? declaredWeights = null)
    {
        _reader = reader;
        _makeCase = makeCase;
        _read = read;
        _declaredWeights = declaredWeights ?? (_ => 0);
    }

    public sealed record Summary(int Cases, int Loaded, IReadOnlyDictionary<string, int> Refused, double Seconds)
    {
        public int RefusedTotal => Refused.Values.Sum();
    }

    /// <summary>Runs the cases on a worker thread while this one watches for a case that does not return.</summary>
    public Summary Run(ITestOutputHelper output)
    {
        int cases = Cases, first = First;
        Warm();
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() => Loop(first, cases)) { IsBackground = true, Name = $"fuzz {_reader}" };
        worker.Start();
        while (!worker.Join(200))
        {
            long started = Volatile.Read(ref _caseStarted);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > CaseLimit)
            {
                // The worker cannot be stopped; it is a background thread, so the test process still ends.
                lock (_failures) Fail(Volatile.Read(ref _case), Volatile.Read(ref _bytes), $"still running after {CaseLimit.TotalSeconds} s (a hang)");
                break;
            }
        }
        var summary = new Summary(cases, _loaded, new Dictionary<string, int>(_refusals), clock.Elapsed.TotalSeconds);
        string refused = string.Join(", ", summary.Refused.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));
        output.WriteLine($"{_reader}: {cases} cases (seed {Seed}, first {first}) in {summary.Seconds:F1} s: {summary.Loaded} loaded, refused: {refused}; {_failures.Count} failed");
        Record(summary);
        lock (_failures)
            if (_failures.Count > 0)
                throw new Xunit.Sdk.XunitException($"{_failures.Count} of {cases} {_reader} cases broke the reader's contract:\n" + string.Join("\n", _failures.Take(SavedFailures)));
        return summary;
    }

    /// <summary>One unmeasured case first, so that the runtime's one-time work (JIT, static tables) is not counted against case 0.</summary>
    private void Warm()
    {
        try { _read(_makeCase(new Random(Seed)), new Random(Seed)); }
        catch (Exception) { /* the measured run reports it */ }
    }

    private void Loop(int first, int cases)
    {
        for (int k = first; k < first + cases; k++)
        {
            var rng = new Random(HashCode32(Seed, k));
            var bytes = _makeCase(rng);
            Volatile.Write(ref _bytes, bytes);
            Volatile.Write(ref _case, k);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            Volatile.Write(ref _caseStarted, started);
            long weights = 0;
            string? broke = null;
            try
            {
                weights = _read(bytes, rng);
                Interlocked.Increment(ref _loaded);
            }
            catch (SparsePruneException e)
            {
                lock (_refusals) _refusals[e.ErrorId] = _refusals.GetValueOrDefault(e.ErrorId) + 1;
            }
            catch (Exception e)
            {
                broke = $"threw {e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Volatile.Write(ref _caseStarted, 0);
            if (broke is null && elapsed > CaseLimit) broke = $"took {elapsed.TotalSeconds:F2} s";
            if (broke is null && allocated > AllocationBound(bytes.Length, weights))
            {
                long declared = Math.Max(weights, _declaredWeights(bytes));
                long bound = AllocationBound(bytes.Length, declared);
                if (allocated > bound) broke = $"allocated {allocated:N0} bytes; a {bytes.Length}-byte file declaring {declared} weights allows {bound:N0}";
            }
            if (broke is not null) lock (_failures) Fail(k, bytes, broke);
        }
    }

    /// <summary>
    /// What one case may allocate on the managed heap: 4 MiB for buffers and the runtime's own
    /// first uses (a Brotli decoder, a JSON reader's pool, a regex's first match); 64 bytes per
    /// byte of the file, for the copies of it the reader takes and the objects parsed from it
    /// (UTF-16 strings are twice the UTF-8, JSON documents and protobuf messages a few times
    /// more); and 48 bytes per declared weight, for the arrays a layer is built from (values,
    /// deletion and mask flags, values behind the mask, decoded codes and positions: about 18
    /// bytes a weight by SpmlpFormat's own estimate, so more than twice that). A reader that
    /// trusts an unchecked count before its bytes are verified exceeds this.
    /// </summary>
    private static long AllocationBound(long fileBytes, long declaredWeights) =>
        (4L << 20) + 64 * fileBytes + 48 * Math.Min(declaredWeights, long.MaxValue / 64);

    private void Fail(int k, byte[] bytes, string why)
    {
        string saved = "";
        if (_failures.Count < SavedFailures)
        {
            var dir = Path.Combine(AppContext.BaseDirectory, "fuzz-failures");
            Directory.CreateDirectory(dir);
            saved = Path.Combine(dir, $"{_reader}-seed{Seed}-case{k}.bin");
            File.WriteAllBytes(saved, bytes);
        }
        _failures.Add($"case {k} (seed {Seed}){(saved.Length > 0 ? $", bytes in {saved}" : "")}: {why}");
    }

    /// <summary>bench/fuzz.ps1 collects one JSON line per reader from SPARSEPRUNE_FUZZ_RESULTS.</summary>
    private void Record(Summary summary)
    {
        var dir = Environment.GetEnvironmentVariable("SPARSEPRUNE_FUZZ_RESULTS");
        if (string.IsNullOrEmpty(dir)) return;
        Directory.CreateDirectory(dir);
        var line = JsonSerializer.Serialize(new
        {
            reader = _reader, cases = summary.Cases, seed = Seed, first = First, seconds = Math.Round(summary.Seconds, 2),
            loaded = summary.Loaded, refused = summary.RefusedTotal, failures = _failures.Count, refusedBy = summary.Refused,
        });
        File.AppendAllText(Path.Combine(dir, "fuzz.jsonl"), line + "\n");
    }

    /// <summary>A fixed mix of the run's seed and the case number (not HashCode.Combine: that is randomized per process).</summary>
    private static int HashCode32(int seed, int k) => unchecked((int)((uint)seed * 2654435761u ^ (uint)k * 2246822519u));

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;
}
