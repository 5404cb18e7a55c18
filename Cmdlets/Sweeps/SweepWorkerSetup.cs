namespace SparsePrune.Cmdlets;

/// <summary>What every worker of one sweep is given once: the module to import, the model and data set as bytes, and its share of the cores.</summary>
internal sealed record SweepWorkerSetup(
    string? ModulePath, byte[] ModelBytes, byte[]? DatasetBytes, int Threads, string SweepId, int Points, bool PassThru);
