using System.Text;
using Google.Protobuf;
using Onnx;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Each activation through every file format: .spmlp, SafeTensors and ONNX give back the same
/// activation (parameters included) and the same outputs; names written before activations took
/// parameters read as they did (an older file's "LeakyReLU" is the slope 0.01).
/// </summary>
public class ActivationFileTests
{
    public static TheoryData<string> Spellings() => new()
    {
        "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "LeakyReLU(0.2)", "LeakyReLU(-0.3)", "ELU", "ELU(0.5)",
        "SiLU", "Softplus", "Softplus(2)", "Softplus(0.5,30)", "Identity",
    };

    private static Mlp Model(string spelling, int seed = 31) => Mlp.Create(new[] { 5, 9, 7, 3 }, Activation.Parse(spelling), seed: seed);

    private static readonly float[] Rows = TestKit.RandomRows(16, 5, 77, 3.0);

    private static void SameOutputs(Mlp expected, Mlp actual, double tolerance)
    {
        var a = TestKit.Forward(expected, Rows, 16);
        var b = TestKit.Forward(actual, Rows, 16);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= tolerance, $"output {i}: {a[i]} vs {b[i]}");
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void SpmlpKeepsTheActivationAndItsParameters(string spelling)
    {
        var model = Model(spelling);
        var bytes = SpmlpFormat.ToBytes(model);
        Assert.Contains($"\"Activation\":\"{spelling}\"", Encoding.UTF8.GetString(bytes));
        var back = SpmlpFormat.FromBytes(bytes);
        Assert.Equal(model.Activation, back.Activation);
        SameOutputs(model, back, 0);
    }

    [Fact]
    public void AnOlderSpmlpFilesLeakyReluIsTheSlope001()
    {
        // The name alone, as every writer before parameters wrote it; the file format is unchanged.
        var bytes = SpmlpFormat.ToBytes(Model("LeakyReLU"));
        Assert.Contains("\"Activation\":\"LeakyReLU\"", Encoding.UTF8.GetString(bytes));
        var back = SpmlpFormat.FromBytes(bytes);
        Assert.Equal(new[] { 0.01 }, back.Activation.Parameters);
        // The previous release's version-1 file (tests/data) still loads with its activation.
        var v1 = SpmlpFormat.Load(TestKit.DataFile("model-v1.spmlp"));
        Assert.Equal(Activation.Tanh, v1.Activation);
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void SafeTensorsKeepsTheActivationAndNamesItsTorchModule(string spelling)
    {
        var model = Model(spelling);
        var bytes = SafeTensorsFormat.ToBytes(model);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToInt64(bytes, 0));
        Assert.Contains($"\"activation\":\"{spelling}\"", header);
        Assert.Contains($"\"torch_activation\":\"{model.Activation.TorchModule}\"", header);
        var back = SafeTensorsFormat.FromBytes(bytes);
        Assert.Equal(model.Activation, back.Activation);
        SameOutputs(model, back, 1e-6);
    }

    [Fact]
    public void APlainStateDictTakesAnActivationWithParameters()
    {
        var model = Model("ELU(0.5)");
        var bytes = SafeTensorsFormat.ToBytes(model);
        var plain = WithoutMetadata(bytes);
        var back = SafeTensorsFormat.FromBytes(plain, Activation.Parse("ELU(0.5)"));
        Assert.Equal(model.Activation, back.Activation);
        SameOutputs(model, back, 1e-6);
        TestKit.Throws("ActivationMismatch", () => SafeTensorsFormat.FromBytes(bytes, Activation.ELU));
    }

    /// <summary>The file as a plain PyTorch state dict: the header without __metadata__, padded with spaces to its length.</summary>
    private static byte[] WithoutMetadata(byte[] file)
    {
        int length = (int)BitConverter.ToInt64(file, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(Encoding.UTF8.GetString(file, 8, length))!.AsObject();
        header.Remove("__metadata__");
        var text = Encoding.UTF8.GetBytes(header.ToJsonString().PadRight(length));
        var plain = (byte[])file.Clone();
        text.CopyTo(plain, 8);
        return plain;
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void OnnxKeepsTheActivationAtOpsets13And17(string spelling)
    {
        foreach (var opset in new[] { 13, 17 })
        {
            var model = Model(spelling);
            var bytes = OnnxFormat.ToBytes(model, new OnnxExportOptions { OpsetVersion = opset });
            var back = OnnxFormat.FromBytes(bytes);
            Assert.Equal(model.Activation, back.Activation);
            SameOutputs(model, back, 1e-5);
            // The graph alone (no SparsePrune metadata, as another tool would strip it) reads the same activation.
            var proto = ModelProto.Parser.ParseFrom(bytes);
            proto.MetadataProps.Clear();
            var graphOnly = OnnxFormat.FromBytes(proto.ToByteArray());
            Assert.True(model.Activation.AgreesWithGraph(graphOnly.Activation), $"{model.Activation} read from the graph alone as {graphOnly.Activation}");
            SameOutputs(model, graphOnly, 1e-5);
        }
    }

    [Fact]
    public void OnnxWritesEachActivationsOwnNodes()
    {
        string Ops(string spelling) => string.Join(",", ModelProto.Parser.ParseFrom(OnnxFormat.ToBytes(Mlp.Create(new[] { 3, 4, 2 }, Activation.Parse(spelling), seed: 1)))
            .Graph.Node.Select(n => n.OpType).Where(o => o is not "Gemm" and not "Softmax"));
        Assert.Equal("Sigmoid,Mul", Ops("SiLU"));
        Assert.Equal("Elu", Ops("ELU(0.5)"));
        Assert.Equal("Softplus", Ops("Softplus"));
        Assert.Equal("Mul,Softplus,Div", Ops("Softplus(2)"));
        Assert.Equal("", Ops("Identity"));
        var leaky = ModelProto.Parser.ParseFrom(OnnxFormat.ToBytes(Mlp.Create(new[] { 3, 4, 2 }, Activation.Parse("LeakyReLU(0.2)"), seed: 1)));
        Assert.Equal(0.2f, leaky.Graph.Node.Single(n => n.OpType == "LeakyRelu").Attribute.Single(a => a.Name == "alpha").F);
        Assert.Equal("0.2", leaky.MetadataProps.Single(p => p.Key == "sparseprune.negative_slope").Value);
        Assert.Equal("LeakyReLU(0.2)", leaky.MetadataProps.Single(p => p.Key == "sparseprune.activation").Value);
    }

    [Fact]
    public void ASoftplusThresholdOnnxCannotHoldIsRefusedOnExport()
    {
        var e = TestKit.Throws("UnsupportedActivation", () => OnnxFormat.ToBytes(Model("Softplus(1,5)")));
        Assert.Contains("threshold", e.Message);
    }
}
