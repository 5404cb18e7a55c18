using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// SafeTensorsFormat.FromBytes over damaged SafeTensors files: SparsePrune's own (dense,
/// pruned and masked models, each activation) and a plain PyTorch state dict without its
/// metadata. The JSON header is mutated as text (dtypes, shapes, offsets, names) with its
/// length field mostly fixed again; the bytes as a whole as any binary file.
/// </summary>
public class SafeTensorsFuzzTests(ITestOutputHelper output)
{
    private static readonly (string From, string[] To)[] HeaderTokens =
    {
        ("\"F32\"", new[] { "\"F64\"", "\"I8\"", "\"F16\"", "\"BF16\"", "\"U8\"", "\"BOOL\"", "\"f32\"", "\"\"", "\"F32\\u0000\"", "32", "null" }),
        ("\"shape\"", new[] { "\"Shape\"", "\"shape\":[],\"x\"", "\"data_offsets\"" }),
        ("\"data_offsets\"", new[] { "\"offsets\"", "\"shape\"" }),
        ("\"dtype\"", new[] { "\"type\"", "\"shape\"" }),
        ("weight", new[] { "bias", "Weight", "weight.0", "" }),
        ("\"0.", new[] { "\"1.", "\"4.", "\"00.", "\"-2.", "\"999999999.", "\"9999999999." }),
        ("__metadata__", new[] { "__meta__", "0.weight", "" }),
        ("sparseprune_format", new[] { "format", "sparseprune_format\":\"9\",\"x" }),
        ("Classification", new[] { "Regression", "classification", "Other" }),
        ("ReLU", new[] { "Tanh", "relu", "Softmax", "" }),
    };

    private static readonly Lazy<FuzzSeed[]> Seeds = new(MakeSeeds);

    private static FuzzSeed[] MakeSeeds()
    {
        var worked = TestKit.WorkedModel(21, "worked");
        var files = new List<(string, byte[])>
        {
            ("relu", SafeTensorsFormat.ToBytes(Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 22, name: "relu"))),
            ("gelu", SafeTensorsFormat.ToBytes(Mlp.Create(new[] { 3, 5, 5, 1 }, Activation.GELU, seed: 23, task: TaskKind.Regression))),
            ("leaky", SafeTensorsFormat.ToBytes(Mlp.Create(new[] { 2, 3, 2 }, Activation.LeakyReLU, seed: 24))),
            ("worked", SafeTensorsFormat.ToBytes(worked)),
        };
        files.Add(("plain", WithoutMetadata(files[0].Item2)));
        return files.Select(f => Seed(f.Item1, f.Item2)).ToArray();
    }

    /// <summary>The same file as PyTorch's safetensors.torch.save_file writes it: no __metadata__.</summary>
    private static byte[] WithoutMetadata(byte[] file)
    {
        var (header, data) = Split(file);
        var json = JsonNode.Parse(header)!.AsObject();
        json.Remove("__metadata__");
        return Join(Encoding.UTF8.GetBytes(json.ToJsonString()), data);
    }

    private static (byte[] Header, byte[] Data) Split(byte[] file)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (file.AsSpan(8, length).ToArray(), file.AsSpan(8 + length).ToArray());
    }

    private static byte[] Join(byte[] header, byte[] data, ulong? length = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, length ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>The header length field, the header and each tensor's data as sections.</summary>
    private static FuzzSeed Seed(string name, byte[] file)
    {
        var (header, _) = Split(file);
        var sections = new List<(int, int)> { (8, header.Length) };
        using var doc = JsonDocument.Parse(header);
        foreach (var p in doc.RootElement.EnumerateObject())
            if (p.Value.TryGetProperty("data_offsets", out var offsets))
            {
                long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
                if (end > begin) sections.Add((8 + header.Length + (int)begin, (int)(end - begin)));
            }
        return new FuzzSeed(name, file, new[] { new FuzzField(0, 8) }, sections);
    }

    private static byte[] MakeCase(Random rng)
    {
        var seeds = Seeds.Value;
        var seed = seeds[rng.Next(seeds.Length)];
        if (rng.Next(5) < 2)
        {
            var (header, data) = Split(seed.Bytes);
            var mutated = Encoding.UTF8.GetBytes(TextMutator.Mutate(Encoding.UTF8.GetString(header), HeaderTokens, rng));
            // Mostly with the length fixed, so that the JSON is what the reader judges.
            return Join(mutated, data, rng.Next(8) == 0 ? (ulong)header.Length : null);
        }
        return ByteMutator.Mutate(seed, rng);
    }

    private static readonly Activation[] Activations = TestKit.FirstActivations;

    [Fact]
    public void DamagedSafeTensorsFilesLoadOrAreRefused()
    {
        // Mostly no -Activation (the file names its own); sometimes one, for the plain state dict and for mismatches.
        var summary = new FuzzRunner("safetensors", MakeCase,
            (bytes, rng) => LoadedModel.Release(SafeTensorsFormat.FromBytes(bytes, rng.Next(4) == 0 ? Activations[rng.Next(Activations.Length)] : null))).Run(output);
        Assert.True(summary.Loaded > 0, "no case loaded");
        Assert.True(summary.Refused.GetValueOrDefault("CorruptModelFile") > summary.Cases / 4, "fewer than a quarter of the cases were refused as corrupt");
        Assert.True(summary.Refused.Count >= 4, "the cases reached fewer than four of the reader's error ids");
    }
}
