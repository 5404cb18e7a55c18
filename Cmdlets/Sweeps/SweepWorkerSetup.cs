namespace SparsePrune.Cmdlets;

/// <summary>
/// What every worker of one sweep is given once: the module to import, the model and data set as
/// bytes, and its share of the cores. Workers on this machine may read the data set's bytes from
/// <see cref="DatasetFile"/> instead: a data set of 200 MB takes seconds to pass through remoting
/// (it is serialized as text), and each worker would pay that again. <see cref="TeacherBytes"/>:
/// the -Teacher every point distils from (null: none).
/// </summary>
internal sealed record SweepWorkerSetup(
    string? ModulePath, byte[] ModelBytes, byte[]? DatasetBytes, string? DatasetFile, int Threads, string SweepId, int Points, bool PassThru, byte[]? TeacherBytes = null);
