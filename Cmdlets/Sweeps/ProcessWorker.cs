using System.Diagnostics;
using System.Globalization;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace SparsePrune.Cmdlets;

/// <summary>
/// A local worker: a pwsh process of its own (PowerShell's out-of-process runspace, as Start-Job
/// uses), since LibTorch's thread pool and random generator are per process. Its LibTorch
/// threads are set before LibTorch loads there.
/// </summary>
internal sealed class ProcessWorker(int number, int count, int threads) : SweepWorker($"process {number} of {count}")
{
    // PowerShellProcessInstance is public in PowerShell 7 but not in the PowerShell Standard
    // reference this module compiles against: it is reached by name at run time.
    private static readonly Type ProcessInstanceType =
        typeof(Runspace).Assembly.GetType("System.Management.Automation.Runspaces.PowerShellProcessInstance", throwOnError: true)!;
    private static readonly MethodInfo CreateRunspace = typeof(RunspaceFactory).GetMethod(
        nameof(RunspaceFactory.CreateOutOfProcessRunspace), new[] { typeof(TypeTable), ProcessInstanceType })!;

    private Process? _process;
    private readonly ManualResetEvent _exited = new(false);

    protected override WaitHandle? Gone => _exited;

    protected override bool ReadsFiles => true;

    protected override string GoneReason => _process is { HasExited: true } p ? $"its pwsh process (id {p.Id}) exited with code {p.ExitCode}" : "its pwsh process exited";

    protected override Runspace Connect()
    {
        var instance = Activator.CreateInstance(ProcessInstanceType, new object?[] { null, null, null, false })!;
        _process = (Process)ProcessInstanceType.GetProperty("Process")!.GetValue(instance)!;
        var environment = _process.StartInfo.Environment;
        // OpenMP sizes its pool when LibTorch loads: the process gets its share of the cores from the start.
        environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        environment["SPARSEPRUNE_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => _exited.Set();
        var runspace = (Runspace)CreateRunspace.Invoke(null, new[] { TypeTable.LoadDefaultTypeFiles(), instance })!;
        runspace.Open();
        return runspace;
    }

    /// <summary>
    /// Kills the worker process (and anything it started), then waits a moment for it to end, so
    /// that it is reaped before the cmdlet returns: no orphan pwsh, nor an exited one still listed
    /// as the session's child, outlives its sweep.
    /// </summary>
    protected override void Terminate()
    {
        try
        {
            if (_process is not { } p) return;
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit(KillWaitMilliseconds);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    private const int KillWaitMilliseconds = 5000;
}
