namespace SparsePrune.Cmdlets;

/// <summary>The worker is gone (its process exited, its connection dropped): its point goes to another worker.</summary>
internal sealed class SweepWorkerLostException(string message) : Exception(message);
