using System.Buffers.Binary;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// SpmlpFormat.FromBytes over damaged .spmlp files of every version: version 1 (the fixture in
/// tests/data), version 2 (dense, masked, pruned and neuron-pruned models) and version 3
/// (quantized by k-means and on a grid, with each coder, compact or not). Most cases get a
/// fixed payload length and checksum again, so that the damage reaches the sections behind them.
/// </summary>
public class SpmlpFuzzTests(ITestOutputHelper output)
{
    private static readonly (string From, string[] To)[] MetadataTokens =
    {
        ("Tanh", new[] { "ReLU", "tanh", "Softmax", "", "7" }),
        ("Classification", new[] { "Regression", "classification", "Other" }),
        ("Standard", new[] { "MinMax", "None", "Robust", "" }),
        ("null", new[] { "[]", "{}", "[null]", "0", "\"x\"", "[[1]]" }),
        ("\"Name\"", new[] { "\"name\"", "\"Name\" ", "\"Nam\"" }),
        ("true", new[] { "false", "1", "null" }),
    };

    private static readonly Lazy<FuzzSeed[]> Seeds = new(MakeSeeds);

    private static FuzzSeed[] MakeSeeds()
    {
        var seeds = new List<FuzzSeed> { Version1(File.ReadAllBytes(TestKit.DataFile("model-v1.spmlp"))) };

        var dense = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 11, name: "dense");
        seeds.Add(Version2Or3("dense", SpmlpFormat.ToBytes(dense)));
        var worked = TestKit.WorkedModel(12, "worked");
        seeds.Add(Version2Or3("worked", SpmlpFormat.ToBytes(worked)));

        var kmeans = TestKit.WorkedModel(13, "kmeans");
        Quantize(kmeans, QuantizationMethod.KMeans, 3);
        seeds.Add(Version2Or3("kmeans", SpmlpFormat.ToBytes(kmeans)));
        seeds.Add(Version2Or3("kmeans-first-layout", SpmlpFormat.ToBytes(kmeans, null, compact: false)));

        var linear = Mlp.Create(new[] { 5, 7, 2 }, Activation.Sigmoid, seed: 14, name: "linear");
        Quantize(linear, QuantizationMethod.Linear, 4);
        seeds.Add(Version2Or3("linear", SpmlpFormat.ToBytes(linear)));

        // Wide enough that position lists are entropy-coded, each coder in turn.
        var sparse = Mlp.Create(new[] { 48, 24, 4 }, seed: 15, name: "sparse");
        TestKit.Prune(sparse, 0.85);
        TestKit.Sparsify(sparse, 0.9);
        Quantize(sparse, QuantizationMethod.KMeans, 4);
        foreach (var coder in new[] { CodeCoder.Huffman, CodeCoder.Deflate, CodeCoder.Brotli })
            seeds.Add(Version2Or3($"sparse-{coder}", SpmlpFormat.ToBytes(sparse, coder)));
        return seeds.ToArray();
    }

    private static void Quantize(Mlp model, QuantizationMethod method, int bits) =>
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = method, Bits = new[] { bits } }), null);

    /// <summary>The header's fields (version, payload length), the preamble's lengths and counts, the layer count.</summary>
    private static List<FuzzField> HeaderFields(int layerCountOffset) => new()
    {
        new FuzzField(8, 2), new FuzzField(12, 8), FuzzField.Int32(24), FuzzField.Int32(28), FuzzField.Int32(layerCountOffset),
    };

    private static FuzzSeed Version1(byte[] bytes)
    {
        var layout = SpmlpShapeScan.Scan(bytes);
        var fields = HeaderFields(layout.LayerCountOffset);
        foreach (var start in layout.LayerStarts)
            fields.AddRange(new[] { FuzzField.Int32(start), FuzzField.Int32(start + 4), new FuzzField(start + 8, 1) });
        var sections = layout.LayerStarts.Zip(layout.LayerStarts.Skip(1).Append(bytes.Length - SpmlpReferenceReader.Hash), (a, b) => (a, b - a)).ToList();
        return new FuzzSeed("v1", bytes, fields, sections);
    }

    private static FuzzSeed Version2Or3(string name, byte[] bytes)
    {
        var file = SpmlpReferenceReader.Parse(bytes);
        var fields = HeaderFields(file.Layers[0].Start - 4);
        var sections = new List<(int, int)> { (SpmlpReferenceReader.Header, file.Layers[0].Start - 4 - SpmlpReferenceReader.Header) };
        void List(SpmlpReferenceReader.PositionList? list)
        {
            if (list is null) return;
            fields.AddRange(new[] { FuzzField.Int32(list.Start), new FuzzField(list.Start + 4, 1), FuzzField.Int32(list.Start + 5) });
            if (list.Coder != 0) fields.Add(FuzzField.Int32(list.Start + 9));
            sections.Add((list.StreamOffset, list.StreamLength));
        }
        foreach (var l in file.Layers)
        {
            fields.AddRange(new[] { FuzzField.Int32(l.Start), FuzzField.Int32(l.Start + 4), new FuzzField(l.Start + 8, 1) });
            sections.AddRange(new[] { (l.Start, l.End - l.Start), (l.BiasOffset, 4 * l.Out) });
            if (l.ValuesLength > 0) sections.Add((l.ValuesOffset, l.ValuesLength));
            List(l.Present);
            List(l.Masked);
            if (l.Quantization is { } q)
            {
                fields.AddRange(new[] { new FuzzField(q.Offset, 1), new FuzzField(q.Offset + 1, 1), new FuzzField(q.CoderOffset, 1), FuzzField.Int32(q.CoderOffset + 1) });
                if (q.Method == 0) fields.Add(new FuzzField(q.Offset + 2, 2));
                sections.AddRange(new[] { (q.ParametersOffset, q.ParameterBytes), (q.StreamOffset, q.StreamLength) });
            }
        }
        return new FuzzSeed(name, bytes, fields, sections);
    }

    private static byte[] MakeCase(Random rng)
    {
        var seeds = Seeds.Value;
        var seed = seeds[rng.Next(seeds.Length)];
        int meta = BinaryPrimitives.ReadInt32LittleEndian(seed.Bytes.AsSpan(SpmlpReferenceReader.Header));
        if (meta > 0 && rng.Next(6) == 0)
        {
            // The metadata JSON mutated as text, its length and the checksum fixed.
            var json = TextMutator.Mutate(Encoding.UTF8.GetString(seed.Bytes, SpmlpReferenceReader.Header + 4, meta), MetadataTokens, rng);
            var utf8 = Encoding.UTF8.GetBytes(json);
            return SpmlpReferenceReader.Splice(seed.Bytes, SpmlpReferenceReader.Header, 4 + meta, [.. BitConverter.GetBytes(utf8.Length), .. utf8]);
        }
        var bytes = ByteMutator.Mutate(seed, rng);
        if (bytes.Length < SpmlpReferenceReader.Header + SpmlpReferenceReader.Hash) return bytes;
        switch (rng.Next(10))
        {
            case 0: return bytes; // the checksum (or the header) catches it
            case 1: return SpmlpReferenceReader.Rehash(bytes); // a lying payload length
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), (ulong)(bytes.Length - SpmlpReferenceReader.Header - SpmlpReferenceReader.Hash));
                return SpmlpReferenceReader.Rehash(bytes);
        }
    }

    [Fact]
    public void DamagedModelFilesLoadOrAreRefused()
    {
        var summary = new FuzzRunner("spmlp", MakeCase, (bytes, _) => LoadedModel.Release(SpmlpFormat.FromBytes(bytes)),
            bytes => SpmlpShapeScan.Scan(bytes).DeclaredWeights).Run(output);
        // The damage reaches past the checksum: some cases still load, and most refusals come from the sections.
        Assert.True(summary.Loaded > 0, "no case loaded");
        Assert.True(summary.Refused.GetValueOrDefault("CorruptModelFile") > summary.Cases / 2, "fewer than half the cases were refused as corrupt");
        Assert.True(summary.Refused.Count >= 3, "the cases reached fewer than three of the reader's error ids");
    }
}
