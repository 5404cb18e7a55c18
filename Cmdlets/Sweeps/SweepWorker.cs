using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SparsePrune.Cmdlets;

/// <summary>
/// One worker of a sweep: a runspace (in this session, in a worker process, or over SSH) that
/// has run SweepWorker.ps1 and holds the model and data set, and runs one point at a time.
/// An exception out of <see cref="Run"/> other than a point's own failure means the worker is
/// lost (its process died, its connection dropped); the dispatcher then gives the point to
/// another worker.
/// </summary>
internal abstract class SweepWorker : IDisposable
{
    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(SweepWorker).Assembly.GetManifestResourceStream("SparsePrune.Cmdlets.SweepWorker.ps1")
            ?? throw new InvalidOperationException("the module lacks its sweep worker script (SparsePrune.Cmdlets.SweepWorker.ps1)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    private Runspace? _runspace;
    private PowerShell? _running;
    private readonly object _gate = new();
    private volatile bool _stopped;

    protected SweepWorker(string name) => Name = name;

    /// <summary>"session", "process 2 of 4", "ssh host1 (2)": what results and messages call this worker.</summary>
    public string Name { get; }

    /// <summary>The machine and LibTorch threads the worker reported when it started.</summary>
    public string ComputerName { get; private set; } = "";
    public int Threads { get; private set; }

    /// <summary>Whether the worker reads this machine's files (a worker process does; a remote host does not).</summary>
    protected virtual bool ReadsFiles => false;

    /// <summary>Workers sharing this worker's host (for its share of the cores), when the host decides the threads.</summary>
    protected virtual int WorkersOnHost => 0;

    /// <summary>Makes and opens the runspace.</summary>
    protected abstract Runspace Connect();

    /// <summary>Ends the worker for good (its process, its connection), even mid-point.</summary>
    protected virtual void Terminate() { }

    /// <summary>Connects, loads the worker script and hands over the model and data set.</summary>
    public void Start(SweepWorkerSetup setup)
    {
        var runspace = Connect();
        bool stopped;
        lock (_gate)
        {
            _runspace = runspace;
            stopped = _stopped;
        }
        if (stopped)
        {
            // Stopped while connecting (a worker process can take seconds to start on a loaded
            // machine): Dispose may have found nothing to end yet, so what was started ends here.
            try { runspace.Dispose(); } catch (Exception) { }
            Terminate();
            throw new OperationCanceledException();
        }
        Invoke(ps => ps.AddScript(Script.Value));
        var ready = Invoke(ps => ps.AddCommand("Initialize-SparsePruneSweepWorker")
            .AddParameter("ModulePath", setup.ModulePath).AddParameter("ModelBytes", setup.ModelBytes)
            .AddParameter("DatasetBytes", ReadsFiles && setup.DatasetFile is not null ? null : setup.DatasetBytes)
            .AddParameter("DatasetFile", ReadsFiles ? setup.DatasetFile : null).AddParameter("Threads", setup.Threads)
            .AddParameter("WorkersOnHost", WorkersOnHost).AddParameter("SweepId", setup.SweepId)
            .AddParameter("Points", setup.Points).AddParameter("Worker", Name).AddParameter("TeacherBytes", setup.TeacherBytes));
        var info = ready.LastOrDefault() ?? throw new InvalidOperationException("the worker did not report when it started");
        ComputerName = info.Properties["ComputerName"]?.Value?.ToString() ?? "";
        Threads = Convert.ToInt32(info.Properties["Threads"]?.Value ?? 0);
    }

    /// <summary>Runs one point: its result, or a <see cref="SweepPointFailedException"/> with the point's own error.</summary>
    public SweepResult Run(SweepPoint point, bool passThru)
    {
        var output = Invoke(ps => ps.AddCommand("Invoke-SparsePruneSweepPoint").AddParameter("PointJson", point.ToJson()).AddParameter("PassThru", passThru));
        var table = output.Select(o => o.BaseObject).OfType<IDictionary>().LastOrDefault()
            ?? throw new InvalidOperationException("the worker returned nothing for the point");
        if (table["Error"] is { } error)
            throw new SweepPointFailedException(point, error.ToString() ?? "", table["ErrorId"]?.ToString());
        var result = SweepResult.FromJson(table["Json"]?.ToString() ?? "", $"the result of point {point.Index} from worker {Name}");
        var modelBytes = table["Model"] is PSObject ps ? ps.BaseObject : table["Model"];
        return modelBytes is byte[] bytes ? result.WithModel(SpmlpFormat.FromBytes(bytes, $"the model of point {point.Index}")) : result;
    }

    /// <summary>
    /// Makes one Compress-Mlp candidate (Invoke-SparsePruneCompressionCandidate): its .spmlp bytes
    /// and the seconds it took there, or the candidate's own error (Error, ErrorId). The model the
    /// worker was started with is the model as given; <paramref name="basisBytes"/>, the model the
    /// candidate starts from when it starts from another candidate.
    /// </summary>
    public (byte[]? Model, double Seconds, string? Error, string? ErrorId) MakeCompressionCandidate(string recipeJson, string specJson, byte[]? basisBytes)
    {
        var output = Invoke(ps => ps.AddCommand("Invoke-SparsePruneCompressionCandidate")
            .AddParameter("RecipeJson", recipeJson).AddParameter("SpecJson", specJson).AddParameter("BasisBytes", basisBytes));
        var table = output.Select(o => o.BaseObject).OfType<IDictionary>().LastOrDefault()
            ?? throw new InvalidOperationException("the worker returned nothing for the candidate");
        if (table["Error"] is { } error) return (null, 0, error.ToString(), table["ErrorId"]?.ToString());
        var bytes = table["Model"] is PSObject ps ? ps.BaseObject : table["Model"];
        return (bytes as byte[] ?? throw new InvalidOperationException("the worker returned no model for the candidate"),
            Convert.ToDouble(table["Seconds"] ?? 0, System.Globalization.CultureInfo.InvariantCulture), null, null);
    }

    /// <summary>
    /// Set when the worker is known to be gone (its process exited): a call waiting on it fails at
    /// once instead of after the remoting layer's own timeout (a minute for a worker process).
    /// </summary>
    protected virtual WaitHandle? Gone => null;

    /// <summary>Why the worker is gone, once <see cref="Gone"/> is set.</summary>
    protected virtual string GoneReason => "the worker ended";

    private Collection<PSObject> Invoke(Action<PowerShell> build)
    {
        var ps = PowerShell.Create();
        lock (_gate)
        {
            if (_stopped) { ps.Dispose(); throw new OperationCanceledException(); }
            ps.Runspace = _runspace;
            _running = ps;
        }
        bool abandoned = false;
        try
        {
            build(ps);
            var output = new PSDataCollection<PSObject>();
            var call = ps.BeginInvoke<PSObject, PSObject>(null, output);
            var gone = Gone;
            if (gone is not null && WaitHandle.WaitAny(new[] { call.AsyncWaitHandle, gone }) == 1 && !call.IsCompleted)
            {
                abandoned = true;
                throw new SweepWorkerLostException(GoneReason);
            }
            ps.EndInvoke(call);
            if (ps.HadErrors && ps.Streams.Error.Count > 0)
                throw new InvalidOperationException(ps.Streams.Error[0].ToString());
            return new Collection<PSObject>(output.ToList());
        }
        finally
        {
            lock (_gate) _running = null;
            // A call on a worker that is gone is left to the remoting layer's timeout, off this thread.
            if (abandoned) Task.Run(() => { try { ps.Dispose(); } catch (Exception) { } });
            else ps.Dispose();
        }
    }

    /// <summary>Stops the running point, if any; the worker takes no more (Ctrl+C, a lost worker, the end of the sweep).</summary>
    public void Stop()
    {
        PowerShell? running;
        lock (_gate)
        {
            _stopped = true;
            running = _running;
        }
        try { running?.BeginStop(null, null); } catch (Exception) { }
    }

    /// <summary>
    /// Closes the runspace, then ends what is left of the worker (<see cref="Terminate"/>). In
    /// that order: closing a runspace whose process was killed first waits a minute for an answer.
    /// </summary>
    public void Dispose()
    {
        Stop();
        var runspace = _runspace;
        if (runspace is not null)
        {
            var closing = Task.Run(() => { try { runspace.Dispose(); } catch (Exception) { } });
            closing.Wait(TimeSpan.FromSeconds(5));
        }
        Terminate();
    }
}
