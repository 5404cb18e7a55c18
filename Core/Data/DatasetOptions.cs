using System.IO.Compression;
using System.Text;

namespace SparsePrune;

/// <summary>Options shared by every way of making a data set.</summary>
public sealed record DatasetOptions
{
    public double TestFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 42;
    public Normalization Normalization { get; init; } = Normalization.Standard;
    public TaskKind? Task { get; init; }
}
