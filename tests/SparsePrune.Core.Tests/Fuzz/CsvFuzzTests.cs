using System.IO.Compression;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// DatasetLoader.FromCsv over damaged CSV files (through a file: the loader reads paths):
/// Iris rows with a text target, a regression with quoted and escaped fields, a numeric class
/// column. The text is mutated (numbers, separators, quotes, lines, code points), sometimes
/// the bytes (invalid UTF-8, NULs); some cases are gzip-compressed (.csv.gz), some of those
/// with the compressed bytes damaged.
/// </summary>
public class CsvFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestKit.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly (string From, string[] To)[] Tokens =
    {
        (",", new[] { ";", ",,", "\",", "" }),
        ("setosa", new[] { "", "Setosa", "\"setosa", "1", "NaN" }),
        ("\"", new[] { "", "\"\"", "'" }),
        ("\n", new[] { "\r\n", "\r", "\n\n", "\u2028" }),
    };

    private static readonly Lazy<string[]> Seeds = new(() => new[]
    {
        string.Join('\n', File.ReadLines(TestKit.DataFile("iris.csv")).Take(40)),
        "\"size, cm\",\"weight \"\"kg\"\"\",x3,target\n1.5,2,-3e2,0.5\n-0.25,1E3,7,1.25\n\"4\",5,6,-7\n8.5,\"9.25\",10,11\n0,0,0,0\n",
        "a,b,label\n1,2,0\n2,3,1\n3,4,2\n4,5,0\n5,6,1\n6,7,2\n",
    });

    private static byte[] MakeCase(Random rng)
    {
        var seeds = Seeds.Value;
        var text = TextMutator.Mutate(seeds[rng.Next(seeds.Length)], Tokens, rng);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (rng.Next(4) == 0) bytes = ByteMutator.Mutate(FuzzSeed.Opaque("csv", bytes), rng);
        if (rng.Next(7) != 0) return bytes;
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest)) z.Write(bytes);
        return rng.Next(3) == 0 ? ByteMutator.Mutate(FuzzSeed.Opaque("csv.gz", gz.ToArray()), rng) : gz.ToArray();
    }

    private static readonly string?[] Targets = { "species", "target", "SPECIES", "nope" };
    private static readonly TaskKind?[] Tasks = { null, null, TaskKind.Classification, TaskKind.Regression };

    /// <summary>Writes the case where the loader looks for it: .csv.gz when it starts as gzip does.</summary>
    private long Read(byte[] bytes, Random rng)
    {
        var path = Path.Combine(_dir, bytes.Length > 1 && bytes[0] == 0x1F && bytes[1] == 0x8B ? "data.csv.gz" : "data.csv");
        File.WriteAllBytes(path, bytes);
        DatasetLoader.FromCsv(path, rng.Next(6) == 0 ? Targets[rng.Next(Targets.Length)] : null, new DatasetOptions { Seed = 1, Task = Tasks[rng.Next(Tasks.Length)] });
        return 0;
    }

    [Fact]
    public void DamagedCsvFilesLoadOrAreRefused()
    {
        var summary = new FuzzRunner("csv", MakeCase, Read).Run(output);
        Assert.True(summary.Loaded > summary.Cases / 20, "fewer than 5 % of the cases loaded");
        Assert.True(summary.Refused.Count >= 4, "the cases reached fewer than four of the loader's error ids");
    }
}
