using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Invoke-PruningSweep: runs every point of a grid of Invoke-Pruning / Invoke-Quantization
/// settings on its own copy of one model, in this session, over worker processes, over SSH
/// remoting, or as one shard of a batch job; streams one result per point.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PruningSweep", DefaultParameterSetName = SessionSet)]
[OutputType(typeof(SweepResult))]
public sealed class InvokePruningSweepCommand : SparsePruneCmdlet
{
    private const string SessionSet = "Session";
    private const string ProcessSet = "Process";
    private const string RemoteSet = "Remote";
    private const string Activity = "Invoke-PruningSweep";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>A hashtable of lists (cartesian product), a list of hashtables or scriptblocks (one point each), or a scriptblock.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public object Grid { get; set; } = null!;

    [Parameter] public Dataset? Dataset { get; set; }

    /// <summary>The seed of every point that does not set its own (Seed in the grid).</summary>
    [Parameter] public int? Seed { get; set; }

    /// <summary>Worker processes on this machine; they split its cores.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProcessSet)]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; }

    /// <summary>Hosts to run the points on over SSH remoting, one worker per entry (name a host twice for two workers there).</summary>
    [Parameter(Mandatory = true, ParameterSetName = RemoteSet)]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = RemoteSet)] public string? UserName { get; set; }
    [Parameter(ParameterSetName = RemoteSet)] public string? KeyFilePath { get; set; }
    [Parameter(ParameterSetName = RemoteSet)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>SSH options for every host (New-PSSession -Options), e.g. @{ StrictHostKeyChecking = 'no' }.</summary>
    [Parameter(ParameterSetName = RemoteSet)] public Hashtable? SshOption { get; set; }

    /// <summary>Where the module is on the hosts, when it is not in their PSModulePath.</summary>
    [Parameter(ParameterSetName = RemoteSet)] public string? ModulePath { get; set; }

    /// <summary>LibTorch threads of each worker (default: the host's cores shared among its workers; in this session: as they are).</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int? ThreadsPerWorker { get; set; }

    /// <summary>"i/n": run only the points whose number modulo n is i (one task of a batch array job).</summary>
    [Parameter]
    [ValidatePattern(@"^\s*\d+\s*/\s*\d+\s*$")]
    public string? Shard { get; set; }

    /// <summary>A folder for one result file per point (atomic writes); points already there are not run again.</summary>
    [Parameter] public string? ResultPath { get; set; }

    /// <summary>Every point's pruning (and its quantization when that fine-tunes) distils from this model.</summary>
    [Parameter] public Mlp? Teacher { get; set; }

    /// <summary>Adds each point's compressed model to its result (Model).</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns the defaults and rules (SweepSettings.Resolve).
        var settings = new SweepSettings
        {
            Seed = Seed, Shard = Shard, ThreadsPerWorker = ThreadsPerWorker,
            ThrottleLimit = ParameterSetName == ProcessSet ? ThrottleLimit : null,
        };
        var job = Guard(Shard, settings.Resolve);
        var points = Guard(Model, () => SweepGrid.Expand(Grid, job.Seed));
        (_shard, _shards) = (job.Shard, job.Shards);
        var data = DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => ModelInputs.CheckCompatible(Model, data));
        else WriteWarning($"Model '{Model.Name}' has no data set and none was given: the results have no metric or latency. Give -Dataset.");
        var resultPath = ResultPath is null ? null : ResolvePath(ResultPath);
        if (resultPath is not null && !Directory.Exists(resultPath))
            Fail("DirectoryNotFound", ErrorKind.ObjectNotFound, $"The result folder '{resultPath}' does not exist; create it first (New-Item -ItemType Directory).", resultPath);

        // What every worker gets: the model and data set as bytes, read under shared access to the model.
        var modelBytes = Guard(Model, () => SpmlpFormat.CanonicalBytes(Model));
        var dataBytes = data is null ? null : Guard(data, () => DatasetBytes.ToBytes(data));
        var teacherBytes = Teacher is null ? null : Guard(Teacher, () => SpmlpFormat.CanonicalBytes(Teacher));
        var sweepId = SweepId(modelBytes, dataBytes, teacherBytes, points);
        var mine = points.Where(p => p.Index % _shards == _shard).ToList();

        var todo = new List<SweepPoint>();
        foreach (var point in mine)
        {
            var existing = resultPath is null ? null : Guard(resultPath, () => SweepResultFile.TryRead(resultPath, point.Index));
            if (existing is null) { todo.Add(point); continue; }
            if (existing.SweepId != sweepId)
                Fail("SweepResultMismatch", ErrorKind.ResourceExists,
                    $"'{Path.Combine(resultPath!, SweepResultFile.FileName(point.Index))}' holds a result of another sweep (id {existing.SweepId}; this one is {sweepId}: another model, data set, teacher, grid or seed). Give an empty -ResultPath, or the one of this sweep.", resultPath);
            WriteVerbose($"Point {point.Index} ({point.Describe()}) already has a result in '{resultPath}': not run again.");
            WriteObject(SweepOutput.Wrap(existing));
        }
        if (todo.Count == 0) return;

        // Worker processes read the data set from a private file rather than through remoting.
        var dataFile = ParameterSetName == ProcessSet && dataBytes is not null ? Guard(data, () => WriteDatasetFile(dataBytes)) : null;
        var setup = new SweepWorkerSetup(ParameterSetName == RemoteSet ? ModulePath : LocalModulePath(this), modelBytes, dataBytes, dataFile,
            job.ThreadsPerWorker,
            sweepId, points.Count, PassThru, teacherBytes);
        int sessionThreads = TorchSharp.torch.get_num_threads();
        SweepDispatcher? dispatcher = null;
        try
        {
            dispatcher = new SweepDispatcher(Workers(setup), todo, setup, StopToken);
            Run(dispatcher, todo.Count, resultPath);
        }
        catch (OperationCanceledException)
        {
            WriteStopped();
            throw new PipelineStoppedException();
        }
        finally
        {
            dispatcher?.Dispose();
            if (dataFile is not null) File.Delete(dataFile);
            CompleteBar();
            // The session engine set this process's threads for the sweep: give the session its own back.
            if (ParameterSetName == SessionSet && TorchSharp.torch.get_num_threads() != sessionThreads) TorchSharp.torch.set_num_threads(sessionThreads);
        }
    }

    /// <summary>The data set's bytes in a new file only this user can read, for the worker processes; deleted after the sweep.</summary>
    internal static string WriteDatasetFile(byte[] bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"sparseprune-sweep-{Guid.NewGuid():N}.spdata");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        file.Write(bytes);
        return path;
    }

    private int _done, _total, _shard, _shards = 1;

    private void Run(SweepDispatcher dispatcher, int count, string? resultPath)
    {
        _total = count; _done = 0;
        int alive = _workerCount;
        Bar($"Starting {_workerCount} worker(s)");
        foreach (var e in dispatcher.Events.GetConsumingEnumerable(StopToken))
        {
            switch (e)
            {
                case SweepEvent.WorkerStarted s:
                    WriteVerbose($"Worker {s.Worker.Name} started on {s.Worker.ComputerName} with {s.Worker.Threads} LibTorch thread(s).");
                    break;
                case SweepEvent.PointDone d:
                    if (resultPath is not null) Guard(resultPath, () => SweepResultFile.Write(resultPath, d.Result));
                    _done++;
                    WriteObject(SweepOutput.Wrap(d.Result));
                    Bar($"Point {d.Result.Point} done on {d.Result.Worker}");
                    break;
                case SweepEvent.PointFailed f:
                    _done++;
                    WriteError(new ErrorRecord(
                        new SparsePruneException("SweepPointFailed", ErrorKind.InvalidArgument, $"Point {f.Point.Index} ({f.Point.Describe()}) failed on worker {f.Worker}: {f.Message}"),
                        "SweepPointFailed", ErrorCategory.InvalidArgument, f.Point.Describe()));
                    Bar($"Point {f.Point.Index} failed");
                    break;
                case SweepEvent.WorkerLost l:
                    alive--;
                    WriteWarning(l.Point is null
                        ? $"Worker {l.Worker.Name} could not start: {l.Reason}"
                        : $"Worker {l.Worker.Name} was lost while running point {l.Point.Index}: {l.Reason}. The point goes to another worker.");
                    if (alive == 0 && _done < _total)
                        Fail("SweepWorkersLost", ErrorKind.InvalidOperation,
                            $"Every worker of the sweep was lost or could not start (last: {l.Worker.Name}: {l.Reason}); {_total - _done} of {_total} point(s) have no result."
                            + (resultPath is null ? "" : $" The results so far are in '{resultPath}': run the sweep again with it to do only the rest."), Model);
                    break;
            }
            if (_done == _total) break;
        }
    }

    private int _workerCount;

    private IReadOnlyList<SweepWorker> Workers(SweepWorkerSetup setup)
    {
        List<SweepWorker> workers = ParameterSetName switch
        {
            ProcessSet => Enumerable.Range(1, ThrottleLimit).Select(i => (SweepWorker)new ProcessWorker(i, ThrottleLimit, setup.Threads)).ToList(),
            RemoteSet => RemoteWorkers(),
            _ => new List<SweepWorker> { new SessionWorker(Shard is null ? "session" : $"shard {_shard}/{_shards}") },
        };
        _workerCount = workers.Count;
        return workers;
    }

    private List<SweepWorker> RemoteWorkers() =>
        SshWorker.For(HostName, new SshTarget(UserName, KeyFilePath is null ? null : ResolvePath(KeyFilePath), Port, SshOption));

    /// <summary>The module manifest <paramref name="cmdlet"/>'s session loaded, for local workers to import the very same build.</summary>
    internal static string LocalModulePath(PSCmdlet cmdlet)
    {
        var module = cmdlet.MyInvocation.MyCommand.Module;
        var manifest = module is null ? null : Path.Combine(module.ModuleBase, module.Name + ".psd1");
        return manifest is not null && File.Exists(manifest) ? manifest : typeof(InvokePruningSweepCommand).Assembly.Location;
    }

    /// <summary>The fingerprint of the sweep: its model, data set, teacher and every point of the whole grid (shards agree on it).</summary>
    private static string SweepId(byte[] model, byte[]? data, byte[]? teacher, IReadOnlyList<SweepPoint> points)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(model);
        hash.AppendData(data ?? Array.Empty<byte>());
        // No bytes without a teacher: the ids of sweeps without one stay as they were.
        hash.AppendData(teacher ?? Array.Empty<byte>());
        foreach (var p in points) hash.AppendData(Encoding.UTF8.GetBytes(p.ToJson()));
        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }

    private void Bar(string status)
    {
        if (StopToken.IsCancellationRequested) return;
        WriteProgress(new ProgressRecord(1, Activity, $"{_done} of {_total} point(s) done. {status}")
        {
            PercentComplete = _total == 0 ? 100 : (int)(100.0 * _done / _total),
        });
    }

    private void CompleteBar()
    {
        try { WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed }); }
        catch (PipelineStoppedException) { }
    }

    private void WriteStopped()
    {
        try { WriteWarning($"The sweep was stopped with {_done} of {_total} point(s) done; its workers were ended." + (ResultPath is null ? "" : $" The results so far are in '{ResultPath}': run the sweep again with it to do only the rest.")); }
        catch (PipelineStoppedException) { }
    }
}
