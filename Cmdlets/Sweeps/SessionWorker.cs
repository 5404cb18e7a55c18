using System.Management.Automation.Runspaces;

namespace SparsePrune.Cmdlets;

/// <summary>The serial engine: a runspace of its own in this process, one point at a time ("session", or "shard i/n" when it runs one).</summary>
internal sealed class SessionWorker(string name) : SweepWorker(name)
{
    protected override Runspace Connect()
    {
        var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        return runspace;
    }
}
