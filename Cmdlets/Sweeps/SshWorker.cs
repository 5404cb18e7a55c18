using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SparsePrune.Cmdlets;

/// <summary>How to reach the hosts of a remote sweep: what New-PSSession -HostName takes.</summary>
internal sealed record SshTarget(string? UserName, string? KeyFilePath, int? Port, Hashtable? Options);

/// <summary>
/// A remote worker: a PowerShell session over SSH (New-PSSession -HostName, the remoting of
/// Invoke-Command -HostName) to a host where SparsePrune is installed.
/// </summary>
internal sealed class SshWorker(string host, int number, int workersOnHost, SshTarget target) : SweepWorker($"ssh {host} ({number})")
{
    public string Host { get; } = host;

    /// <summary>One worker per entry of <paramref name="hosts"/> (a host named twice runs two, sharing its cores).</summary>
    public static List<SweepWorker> For(IReadOnlyList<string> hosts, SshTarget target)
    {
        var perHost = hosts.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        return hosts.Select(h =>
        {
            seen[h] = seen.GetValueOrDefault(h) + 1;
            return (SweepWorker)new SshWorker(h, seen[h], perHost[h], target);
        }).ToList();
    }

    protected override int WorkersOnHost => workersOnHost;

    /// <summary>
    /// The local runspace that made the session: it owns it (closing it closes the session), so it
    /// lives as long as the worker.
    /// </summary>
    private PowerShell? _owner;

    protected override Runspace Connect()
    {
        // A host that does not answer is refused here, before PowerShell's SSH transport meets it.
        SshProbe.EnsureReachable(Host, target);
        var ps = _owner = PowerShell.Create();
        ps.AddCommand("New-PSSession").AddParameter("HostName", Host);
        if (target.UserName is { } user) ps.AddParameter("UserName", user);
        if (target.KeyFilePath is { } key) ps.AddParameter("KeyFilePath", key);
        if (target.Port is { } port) ps.AddParameter("Port", port);
        if (target.Options is { } options) ps.AddParameter("Options", options);
        var sessions = ps.Invoke<PSSession>();
        if (sessions.Count == 0 || ps.Streams.Error.Count > 0)
            throw new InvalidOperationException(ps.Streams.Error.Count > 0 ? ps.Streams.Error[0].ToString() : $"no session to {Host}");
        return sessions[0].Runspace;
    }

    protected override void Terminate()
    {
        try { _owner?.Dispose(); } catch (Exception) { }
    }
}
