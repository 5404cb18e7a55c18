using Onnx;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// OnnxFormat.FromBytes over damaged ONNX files written by SparsePrune's exporter: dense and
/// sparse initializers, int8 (QDQ) weights, each activation, the oldest and newest opset. The
/// protobuf's varints (lengths, dims, data types, op versions) are set to extremes, its
/// length-delimited fields (nodes, tensors, names, attributes) moved, repeated or dropped.
/// </summary>
public class OnnxFuzzTests(ITestOutputHelper output)
{
    private static readonly Lazy<FuzzSeed[]> Seeds = new(MakeSeeds);

    private static FuzzSeed[] MakeSeeds()
    {
        var worked = TestKit.WorkedModel(31, "worked");
        var int8 = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 32, name: "int8");
        Quantizer.Apply(int8, Quantizer.Plan(int8, new QuantizationRequest { Method = QuantizationMethod.Linear, Bits = new[] { 8 } }), null);
        var files = new (string, byte[])[]
        {
            ("relu", OnnxFormat.ToBytes(Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 33, name: "relu"))),
            ("worked-sparse", OnnxFormat.ToBytes(worked, new OnnxExportOptions { SparseInitializers = true })),
            ("worked-dense-opset13", OnnxFormat.ToBytes(worked, new OnnxExportOptions { OpsetVersion = 13 })),
            ("int8", OnnxFormat.ToBytes(int8)),
            ("gelu-opset21", OnnxFormat.ToBytes(Mlp.Create(new[] { 3, 4, 1 }, Activation.GELU, seed: 34), new OnnxExportOptions { OpsetVersion = 21 })),
            ("leaky", OnnxFormat.ToBytes(Mlp.Create(new[] { 2, 3, 2 }, Activation.LeakyReLU, seed: 35))),
            ("sigmoid", OnnxFormat.ToBytes(Mlp.Create(new[] { 2, 3, 2 }, Activation.Sigmoid, seed: 36))),
        };
        return files.Select(f => ProtobufLayout.Seed(f.Item1, f.Item2)).ToArray();
    }

    private static byte[] MakeCase(Random rng)
    {
        var seeds = Seeds.Value;
        return ByteMutator.Mutate(seeds[rng.Next(seeds.Length)], rng);
    }

    /// <summary>The elements the file's initializers declare (dense and sparse), when it still parses as a ModelProto.</summary>
    private static long DeclaredWeights(byte[] bytes)
    {
        try
        {
            var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
            if (graph is null) return 0;
            static long Count(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => d <= 0 ? a : (a > long.MaxValue / d ? long.MaxValue : a * d));
            return graph.Initializer.Sum(t => Math.Min(Count(t.Dims), Mlp.MaxWeights)) + graph.SparseInitializer.Sum(s => Math.Min(Count(s.Dims), Mlp.MaxWeights));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return 0;
        }
    }

    [Fact]
    public void DamagedOnnxFilesLoadOrAreRefused()
    {
        var summary = new FuzzRunner("onnx", MakeCase, (bytes, _) => LoadedModel.Release(OnnxFormat.FromBytes(bytes)), DeclaredWeights).Run(output);
        Assert.True(summary.Loaded > 0, "no case loaded");
        Assert.True(summary.Refused.GetValueOrDefault("CorruptModelFile") > summary.Cases / 4, "fewer than a quarter of the cases were refused as corrupt");
        Assert.True(summary.Refused.Count >= 2, "the cases reached fewer than two of the reader's error ids");
    }
}
