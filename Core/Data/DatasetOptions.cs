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

    /// <summary>The options as a cmdlet got them (null: not given), the defaults above filled in.</summary>
    public static DatasetOptions From(double? testFraction, int? seed, Normalization? normalization, TaskKind? task)
    {
        var defaults = new DatasetOptions();
        return new DatasetOptions
        {
            TestFraction = testFraction ?? defaults.TestFraction, Seed = seed ?? defaults.Seed,
            Normalization = normalization ?? defaults.Normalization, Task = task,
        };
    }
}
