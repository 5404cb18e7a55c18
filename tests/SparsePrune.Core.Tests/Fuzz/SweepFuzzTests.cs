using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// The two readers of a sweep's outside bytes: result files (written by shards on other
/// machines, merged by Import-SweepResult) and the data set bytes a worker receives. Result
/// files are mutated as JSON text (names, numbers, types) and as bytes; data set bytes through
/// their header length and JSON header (row counts, names) and as bytes.
/// </summary>
public class SweepFuzzTests(ITestOutputHelper output)
{
    private static readonly (string From, string[] To)[] ResultTokens =
    {
        ("\"version\": 1", new[] { "\"version\": 2", "\"version\": \"1\"", "\"version\": null", "\"version\": 1e9" }),
        ("\"point\": ", new[] { "\"point\": -", "\"point\": 9", "\"point\": \"", "\"Point\": " }),
        ("\"weights\": ", new[] { "\"weights\": 9999999999999999999", "\"weights\": -", "\"weights\": 1.5", "\"weights\": \"" }),
        ("\"stored\": \"", new[] { "\"stored\": \"X", "\"stored\": 3, \"x\": \"" }),
        ("\"step\": \"Pruning\"", new[] { "\"step\": \"Other\"", "\"step\": 1", "\"step\": null" }),
        ("\"value\": ", new[] { "\"value\": {}", "\"value\": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]", "\"value\": 1e400", "\"value\": " }),
        ("\"layers\": [", new[] { "\"layers\": {", "\"layers\": [null,", "\"layers\": [1," }),
        ("\"spec\"", new[] { "\"Spec\"", "\"spec\": null, \"x\"" }),
        ("null", new[] { "0", "\"\"", "[]", "NaN" }),
        ("\"metric\": ", new[] { "\"metric\": \"NaN\"", "\"metric\": \"x\"", "\"metric\": true" }),
    };

    private static readonly Lazy<FuzzSeed[]> ResultSeeds = new(() =>
    {
        var model = TestKit.WorkedModel(31, "swept");
        var point = new SweepPoint
        {
            Index = 2, Seed = 4, Script = "$_",
            Settings = new[] { new SweepParameter("Ratio", SweepStep.Pruning, "Ratio", 0.5), new SweepParameter("Layer", SweepStep.Pruning, "Layer", new object?[] { 0, 1 }) },
        };
        var result = SweepResult.Create("0123456789abcdef", 6, point, CompressionReport.Create(model, TestKit.Iris), 0.25, 1.5, 2, "host", "session");
        LoadedModel.Release(model);
        return new[] { FuzzSeed.Opaque("result", Encoding.UTF8.GetBytes(result.ToJson())) };
    });

    private static readonly (string From, string[] To)[] DatasetTokens =
    {
        ("\"Train\":", new[] { "\"Train\":-", "\"Train\":9", "\"Train\":1", "\"Train\":\"" }),
        ("\"Test\":", new[] { "\"Test\":-", "\"Test\":9", "\"Test\":0,\"x\":" }),
        ("\"Task\":\"", new[] { "\"Task\":\"X", "\"Task\":1,\"y\":\"" }),
        ("\"Features\":[", new[] { "\"Features\":[null,", "\"Features\":[1,", "\"Features\":{" }),
        ("\"Classes\":[", new[] { "\"Classes\":null,\"z\":[", "\"Classes\":[[]," }),
        ("\"Normalization\":\"", new[] { "\"Normalization\":\"Z", "\"Normalization\":null,\"q\":\"" }),
    };

    private static readonly Lazy<FuzzSeed[]> DatasetSeeds = new(() => new[]
    {
        Seed("iris", DatasetBytes.ToBytes(TestKit.Iris)),
        Seed("synthetic", DatasetBytes.ToBytes(TestKit.Synthetic)),
    });

    /// <summary>The header length as a field; the header and the float arrays as sections.</summary>
    private static FuzzSeed Seed(string name, byte[] bytes)
    {
        int header = BitConverter.ToInt32(bytes, 8);
        return new FuzzSeed(name, bytes, new[] { new FuzzField(8, 4) }, new[] { (12, header), (12 + header, bytes.Length - 12 - header) });
    }

    private static byte[] MakeResultCase(Random rng)
    {
        var seed = ResultSeeds.Value[0];
        return rng.Next(3) < 2
            ? Encoding.UTF8.GetBytes(TextMutator.Mutate(Encoding.UTF8.GetString(seed.Bytes), ResultTokens, rng))
            : ByteMutator.Mutate(seed, rng);
    }

    private static byte[] MakeDatasetCase(Random rng)
    {
        var seed = DatasetSeeds.Value[rng.Next(DatasetSeeds.Value.Length)];
        if (rng.Next(5) < 2)
        {
            int length = BitConverter.ToInt32(seed.Bytes, 8);
            var header = Encoding.UTF8.GetBytes(TextMutator.Mutate(Encoding.UTF8.GetString(seed.Bytes, 12, length), DatasetTokens, rng));
            // Mostly with the length fixed, so that the header is what the reader judges.
            var lengthBytes = BitConverter.GetBytes(rng.Next(8) == 0 ? length : header.Length);
            return seed.Bytes[..8].Concat(lengthBytes).Concat(header).Concat(seed.Bytes[(12 + length)..]).ToArray();
        }
        return ByteMutator.Mutate(seed, rng);
    }

    [Fact]
    public void DamagedResultFilesLoadOrAreRefused()
    {
        var summary = new FuzzRunner("sweep result", MakeResultCase, (bytes, _) => SweepResultFile.FromBytes(bytes, "the case").Weights * 0).Run(output);
        Assert.True(summary.Loaded > 0, "no case loaded");
        Assert.True(summary.Refused.GetValueOrDefault("CorruptSweepResult") > summary.Cases / 4, "fewer than a quarter of the cases were refused as corrupt");
    }

    [Fact]
    public void DamagedDataSetBytesLoadOrAreRefused()
    {
        var summary = new FuzzRunner("data set bytes", MakeDatasetCase, (bytes, _) => DatasetBytes.FromBytes(bytes).TrainCount * 0L).Run(output);
        Assert.True(summary.Loaded > 0, "no case loaded");
        Assert.True(summary.Refused.GetValueOrDefault("CorruptDatasetBytes") > summary.Cases / 4, "fewer than a quarter of the cases were refused as corrupt");
    }
}
