using Google.Protobuf;
using Onnx;
using Xunit;
using static SparsePrune.Tests.OnnxTestGraphs;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SparsePrune.Tests;

/// <summary>
/// ONNX import of what it must refuse: graphs that are not a plain MLP (convolutions, branches,
/// two inputs, mixed activations, other domains, external data) and damaged files (wrong sizes,
/// truncation, random bytes, NaN weights, huge sparse shapes), each with its stable ErrorId.
/// Graphs are built with <see cref="OnnxTestGraphs"/>.
/// </summary>
public class OnnxReadErrorsTests
{
    // ---- refused graphs -------------------------------------------------------------------------

    [Fact]
    public void AConvIsRefusedByName()
    {
        var g = new GraphBuilder();
        var h = g.Input("image", 1, 1, 8, 8);
        var conv = g.Node("Conv", new[] { h, g.Init("k", new long[] { 2, 1, 3, 3 }, new float[18]) });
        g.Graph.Node[^1].Name = "/features/Conv";
        h = g.Node("Flatten", new[] { conv });
        h = g.Node("Gemm", new[] { h, g.Init("w", new long[] { 3, 72 }, new float[216]) }, Int("transB", 1));
        g.Output(h);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("'/features/Conv' (Conv)", e.Message);
        Assert.Contains("'test.onnx'", e.Message);
        Assert.Equal(ErrorKind.NotSupported, e.Kind);
    }

    [Fact]
    public void TwoInputsAreRefused()
    {
        var layers = Layers(3, 2);
        var g = GemmGraph(layers, Activation.ReLU);
        g.Input("mask", "batch", 2);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("2 inputs", e.Message);
        Assert.Contains("'mask'", e.Message);
    }

    [Fact]
    public void ANonConstantWeightIsRefused()
    {
        var g = new GraphBuilder();
        var x = g.Input("x", "n", 3);
        var h = g.Node("Gemm", new[] { x, g.Init("w", new long[] { 3, 3 }, new float[9]) }, Int("transB", 1));
        h = g.Node("Relu", new[] { h });
        var w = g.Node("Relu", new[] { g.Init("w2", new long[] { 3, 2 }, new float[6]) });   // computed, not constant
        h = g.Node("MatMul", new[] { h, w });
        g.Output(h);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("(MatMul)", e.Message);
        Assert.Contains("not a constant", e.Message);
    }

    [Fact]
    public void MixedActivationsAreRefused()
    {
        var layers = Layers(3, 4, 4, 2);
        var g = new GraphBuilder();
        var h = g.Input("x", "n", 3);
        for (int l = 0; l < 3; l++)
        {
            var L = layers[l];
            h = g.Node("Gemm", new[] { h, g.Init($"w{l}", new long[] { L.Out, L.In }, L.W), g.Init($"b{l}", new long[] { L.Out }, L.B) }, Int("transB", 1));
            if (l == 0) h = g.Node("Relu", new[] { h });
            if (l == 1) h = g.Node("Tanh", new[] { h });
        }
        g.Output(h);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("mixes activations", e.Message);
        Assert.Contains("(Tanh)", e.Message);
    }

    [Fact]
    public void GeluTanhApproximationIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.GELU);
        g.Graph.Node.Single(n => n.OpType == "Gelu").Attribute.Add(Str("approximate", "tanh"));
        TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
    }

    [Fact]
    public void AValueUsedTwiceIsABranch()
    {
        var layers = Layers(3, 3, 3);
        var g = new GraphBuilder();
        var x = g.Input("x", "n", 3);
        var h = g.Node("Gemm", new[] { x, g.Init("w0", new long[] { 3, 3 }, layers[0].W) }, Int("transB", 1));
        var r = g.Node("Relu", new[] { h });
        h = g.Node("Gemm", new[] { r, g.Init("w1", new long[] { 3, 3 }, layers[1].W) }, Int("transB", 1));
        h = g.Node("Add", new[] { h, r });   // a residual connection
        g.Output(h);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("branches", e.Message);
    }

    [Fact]
    public void AnActivationAfterTheLastLayerIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 1), Activation.Sigmoid);
        var last = g.Graph.Output[0].Name;
        g.Graph.Output.Clear();
        g.Output(g.Node("Sigmoid", new[] { last }));
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("after its last layer", e.Message);
    }

    [Fact]
    public void AHiddenValueAsAGraphOutputIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        g.Output(g.Graph.Node.Single(n => n.OpType == "Relu").Output[0]);
        TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
    }

    [Fact]
    public void AnUnusedComputingNodeIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        g.Node("Conv", new[] { g.Init("stray", new long[] { 1 }, new float[] { 1 }) });
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("(Conv)", e.Message);
    }

    [Fact]
    public void ExternalDataIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        var w = g.Graph.Initializer[0];
        w.ClearRawData();
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("weights.bin", e.Message);
        Assert.Contains("'0.weight'", e.Message);
    }

    [Fact]
    public void AnOperatorOfAnotherDomainIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        g.Graph.Node.Single(n => n.OpType == "Relu").Domain = "com.microsoft";
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("com.microsoft", e.Message);
    }

    // ---- damaged files ---------------------------------------------------------------------------

    [Theory]
    [InlineData(Storage.Raw)]
    [InlineData(Storage.FloatData)]
    [InlineData(Storage.DoubleData)]
    public void AnInitializerOfTheWrongSizeIsCorrupt(Storage storage)
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU, storage);
        g.Graph.Initializer[0].Dims[1] = 5;  // [4, 5] but 12 values
        var e = TestKit.Throws("CorruptModelFile", () => Import(g));
        Assert.Contains("'0.weight'", e.Message);
        Assert.Equal(ErrorKind.InvalidData, e.Kind);
    }

    [Fact]
    public void ABiasOfTheWrongLengthIsRefused()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        var b = g.Graph.Initializer.Single(t => t.Name == "0.bias");
        b.Dims[0] = 3;
        b.RawData = ByteString.CopyFrom(new byte[12]);
        Assert.Contains("'0.bias'", TestKit.Throws("CorruptModelFile", () => Import(g)).Message);
        // a bias per row and output is valid ONNX, but not a Linear layer's
        b.Dims.Clear();
        b.Dims.AddRange(new long[] { 2, 4 });
        b.RawData = ByteString.CopyFrom(new byte[32]);
        Assert.Contains("'0.bias'", TestKit.Throws("UnsupportedOnnxGraph", () => Import(g)).Message);
    }

    [Fact]
    public void LayersThatDoNotChainAreCorrupt()
    {
        var layers = new[] { RandomLayer(3, 4, 1), RandomLayer(5, 2, 2) };
        TestKit.Throws("CorruptModelFile", () => Import(GemmGraph(layers, Activation.ReLU)));
    }

    [Fact]
    public void ATruncatedFileIsCorrupt()
    {
        var bytes = GemmGraph(Layers(5, 8, 3), Activation.ReLU).Bytes();
        foreach (var keep in new[] { bytes.Length - 1, bytes.Length - 20, bytes.Length / 2, 10, 1 })
        {
            var e = TestKit.Throws("CorruptModelFile", () => OnnxFormat.FromBytes(bytes[..keep], source: "'cut.onnx'"));
            Assert.Contains("'cut.onnx'", e.Message);
        }
    }

    [Fact]
    public void RandomBytesAndEmptyInputAreCorrupt()
    {
        var rng = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[rng.Next(1, 400)];
            rng.NextBytes(bytes);
            if (i % 2 == 0) bytes[0] = 0x08;   // what ModelFile sniffs as ONNX
            TestKit.Throws("CorruptModelFile", () => OnnxFormat.FromBytes(bytes));
        }
        TestKit.Throws("CorruptModelFile", () => OnnxFormat.FromBytes(Array.Empty<byte>()));
    }

    [Fact]
    public void AModelWithoutAGraphIsCorrupt()
    {
        var m = new ModelProto { IrVersion = 8 };
        Assert.Contains("no graph", TestKit.Throws("CorruptModelFile", () => OnnxFormat.FromBytes(m.ToByteArray())).Message);
    }

    [Fact]
    public void NaNWeightsAreCorrupt()
    {
        var layers = Layers(3, 4, 2);
        layers[1].W[3] = float.NaN;
        TestKit.Throws("CorruptModelFile", () => Import(GemmGraph(layers, Activation.ReLU, Storage.FloatData)));
    }

    [Fact]
    public void AHugeSparseShapeIsRefusedBeforeAllocating()
    {
        var g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        g.Graph.Initializer.Remove(g.Graph.Initializer.Single(t => t.Name == "0.weight"));
        var s = new SparseTensorProto { Values = Tensor("0.weight", new long[] { 1 }, new[] { 1f }, Storage.Raw), Indices = new TensorProto { DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { 0 } } };
        s.Dims.AddRange(new long[] { 1L << 20, 1L << 20 });
        g.Graph.SparseInitializer.Add(s);
        TestKit.Throws("CorruptModelFile", () => Import(g));
    }
}
