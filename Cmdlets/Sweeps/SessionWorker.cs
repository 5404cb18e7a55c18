using System.Management.Automation.Runspaces;

namespace SparsePrune.Cmdlets;

/// <summary>The serial engine: a runspace of its own in this process, one point at a time.</summary>
internal sealed class SessionWorker() : SweepWorker("session")
{
    protected override Runspace Connect()
    {
        var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        return runspace;
    }
}
