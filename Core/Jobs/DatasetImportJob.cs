namespace SparsePrune;

/// <summary>What Import-Dataset reads, as DatasetImportSettings.Resolve decided it.</summary>
public sealed record DatasetImportJob(string Path, bool IsIdx, DatasetOptions Options, string? TargetColumn, string[]? ExcludeColumn, string? Name)
{
    public Dataset Load() => IsIdx
        ? DatasetLoader.FromIdxFolder(Path, Options, Name)
        : DatasetLoader.FromCsv(Path, TargetColumn, Options, Name, ExcludeColumn);
}
