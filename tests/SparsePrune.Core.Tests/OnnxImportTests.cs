using Google.Protobuf;
using Onnx;
using Xunit;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SparsePrune.Tests;

/// <summary>
/// ONNX import: ModelProtos built here by hand with the generated message classes, in every form
/// the common exporters write (Gemm, MatMul + Add, Transpose of a constant weight, raw_data and
/// typed data, sparse initializers, Constant nodes, trailing Softmax/Identity/Flatten, each
/// activation and GELU's Erf pattern). The imported weights are compared with the graph's
/// constants and the model's outputs with the graph computed here in managed code; bad graphs
/// and damaged files must fail with their stable ErrorId.
/// </summary>
public class OnnxImportTests
{
    // ---- building graphs ---------------------------------------------------------------------

    public enum Storage { Raw, FloatData, DoubleData, DoubleRaw }

    /// <summary>A ModelProto under construction, one node at a time.</summary>
    private sealed class GraphBuilder
    {
        public readonly ModelProto Model;
        public GraphProto Graph => Model.Graph;
        private int _next;

        public GraphBuilder(int opset = 17)
        {
            Model = new ModelProto { IrVersion = 8, ProducerName = "OnnxImportTests", Graph = new GraphProto { Name = "test" } };
            Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        }

        public string Input(string name, params object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
            Graph.Input.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } });
            return name;
        }

        public void Output(string name) => Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } } });

        public string Init(string name, long[] dims, float[] values, Storage storage = Storage.Raw)
        {
            Graph.Initializer.Add(Tensor(name, dims, values, storage));
            return name;
        }

        public string Node(string op, string[] inputs, params AttributeProto[] attributes)
        {
            var output = $"{op.ToLowerInvariant()}_{_next++}";
            var node = new NodeProto { OpType = op, Name = $"/{op}_{_next}" };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            Graph.Node.Add(node);
            return output;
        }

        /// <summary>A Constant node holding a tensor.</summary>
        public string Constant(long[] dims, float[] values, Storage storage = Storage.Raw) =>
            Node("Constant", Array.Empty<string>(), new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Tensor("", dims, values, storage) });

        public string Scalar(float v) => Constant(Array.Empty<long>(), new[] { v });

        public byte[] Bytes() => Model.ToByteArray();
    }

    private static TensorProto Tensor(string name, long[] dims, float[] values, Storage storage)
    {
        var t = new TensorProto { Name = name, DataType = (int)(storage is Storage.DoubleData or Storage.DoubleRaw ? DataType.Double : DataType.Float) };
        t.Dims.AddRange(dims);
        switch (storage)
        {
            case Storage.Raw: t.RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()); break;
            case Storage.FloatData: t.FloatData.AddRange(values); break;
            case Storage.DoubleData: t.DoubleData.AddRange(values.Select(v => (double)v)); break;
            case Storage.DoubleRaw: t.RawData = ByteString.CopyFrom(values.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray()); break;
        }
        return t;
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    private static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
    private static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    /// <summary>A layer's values as the test knows them: weight [out, in] row-major, bias [out].</summary>
    private sealed record Layer(int Out, int In, float[] W, float[] B);

    private static Layer RandomLayer(int inputs, int outputs, int seed) =>
        new(outputs, inputs, TestKit.RandomRows(outputs, inputs, seed, 0.8), TestKit.RandomRows(1, outputs, seed + 1000, 0.3));

    private static float[] Transpose(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
        return t;
    }

    // ---- the graph computed here -----------------------------------------------------------

    /// <summary>erf, Abramowitz and Stegun 7.1.26 (|error| below 1.5e-7).</summary>
    private static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }

    private static double Act(double v, Activation a) => a == Activation.GELU ? 0.5 * v * (1 + Erf(v / Math.Sqrt(2))) : TestKit.Act(v, a);

    /// <summary>Linear layers with the activation between them, in double: what the graph computes before any trailing Softmax.</summary>
    private static double[] Expected(IReadOnlyList<Layer> layers, Activation activation, float[] x, int rows)
    {
        var result = new List<double>();
        for (int r = 0; r < rows; r++)
        {
            var h = x.Skip(r * layers[0].In).Take(layers[0].In).Select(v => (double)v).ToArray();
            for (int l = 0; l < layers.Count; l++)
            {
                var L = layers[l];
                var next = new double[L.Out];
                for (int o = 0; o < L.Out; o++)
                {
                    double s = L.B[o];
                    for (int i = 0; i < L.In; i++) s += L.W[o * L.In + i] * h[i];
                    next[o] = l + 1 < layers.Count ? Act(s, activation) : s;
                }
                h = next;
            }
            result.AddRange(h);
        }
        return result.ToArray();
    }

    /// <summary>The imported model's weights and biases are the layers', and its outputs the graph's (within 1e-5).</summary>
    private static void AssertComputes(Mlp model, IReadOnlyList<Layer> layers, Activation activation)
    {
        Assert.Equal(layers.Count, model.LayerCount);
        Assert.Equal(new[] { layers[0].In }.Concat(layers.Select(l => l.Out)).ToArray(), model.Widths);
        for (int l = 0; l < layers.Count; l++)
        {
            Assert.Equal(layers[l].W, TestKit.W(model, l));
            Assert.Equal(layers[l].B, model.GetBias(l));
        }
        int rows = 7;
        var x = TestKit.RandomRows(rows, layers[0].In, 99, 2.0);
        var expected = Expected(layers, activation, x, rows);
        var actual = TestKit.Forward(model, x, rows);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"output {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static readonly Activation[] AllActivations = { Activation.ReLU, Activation.Tanh, Activation.Sigmoid, Activation.LeakyReLU, Activation.GELU };

    /// <summary>The activation as one ONNX node (Gelu: the opset 20 op), or GELU's Erf form when <paramref name="erfGelu"/>.</summary>
    private static string Activate(GraphBuilder g, string x, Activation a, bool erfGelu = false, bool halfFirst = false)
    {
        switch (a)
        {
            case var _ when a == Activation.ReLU: return g.Node("Relu", new[] { x });
            case var _ when a == Activation.Tanh: return g.Node("Tanh", new[] { x });
            case var _ when a == Activation.Sigmoid: return g.Node("Sigmoid", new[] { x });
            case var _ when a == Activation.LeakyReLU: return g.Node("LeakyRelu", new[] { x }, Float("alpha", 0.01f));
            case var _ when a == Activation.GELU && !erfGelu: return g.Node("Gelu", new[] { x });
        }
        // torch.onnx.export of nn.GELU() below opset 20: Div(x, √2), Erf, Add 1, Mul x, Mul 0.5.
        var div = g.Node("Div", new[] { x, g.Scalar((float)Math.Sqrt(2)) });
        var erf = g.Node("Erf", new[] { div });
        var plus = g.Node("Add", new[] { erf, g.Scalar(1f) });
        if (halfFirst)
        {
            var half = g.Node("Mul", new[] { x, g.Scalar(0.5f) });
            return g.Node("Mul", new[] { half, plus });
        }
        var mul = g.Node("Mul", new[] { x, plus });
        return g.Node("Mul", new[] { mul, g.Scalar(0.5f) });
    }

    /// <summary>PyTorch's usual export: Gemm(transB=1) with initializers named like a Sequential's state dict.</summary>
    private static GraphBuilder GemmGraph(IReadOnlyList<Layer> layers, Activation activation, Storage storage = Storage.Raw, bool erfGelu = false, string? trailing = null)
    {
        var g = new GraphBuilder();
        var h = g.Input("input", "batch", layers[0].In);
        for (int l = 0; l < layers.Count; l++)
        {
            var L = layers[l];
            var w = g.Init($"{2 * l}.weight", new long[] { L.Out, L.In }, L.W, storage);
            var b = g.Init($"{2 * l}.bias", new long[] { L.Out }, L.B, storage);
            h = g.Node("Gemm", new[] { h, w, b }, Float("alpha", 1), Float("beta", 1), Int("transB", 1));
            if (l + 1 < layers.Count) h = Activate(g, h, activation, erfGelu);
        }
        if (trailing is not null) h = g.Node(trailing, new[] { h }, trailing == "Softmax" ? new[] { Int("axis", -1) } : Array.Empty<AttributeProto>());
        g.Output(h);
        return g;
    }

    private static Layer[] Layers(params int[] widths) =>
        Enumerable.Range(0, widths.Length - 1).Select(i => RandomLayer(widths[i], widths[i + 1], 10 * i + widths[i])).ToArray();

    private static Mlp Import(GraphBuilder g, string name = "test-model") => OnnxFormat.FromBytes(g.Bytes(), source: "'test.onnx'", name: name);

    // ---- the forms exporters write ------------------------------------------------------------

    [Theory]
    [InlineData(nameof(Activation.ReLU))]
    [InlineData(nameof(Activation.Tanh))]
    [InlineData(nameof(Activation.Sigmoid))]
    [InlineData(nameof(Activation.LeakyReLU))]
    [InlineData(nameof(Activation.GELU))]
    public void GemmWithEachActivationComputesTheGraph(string activationName)
    {
        var activation = Activation.Parse(activationName);
        var layers = Layers(5, 8, 6, 3);
        var model = Import(GemmGraph(layers, activation));
        Assert.Equal(activation, model.Activation);
        Assert.Equal(TaskKind.Classification, model.Task);
        Assert.Equal("test-model", model.Name);
        Assert.Equal(Normalization.None, model.InputNormalization);
        AssertComputes(model, layers, activation);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GelusErfPatternIsGelu(bool halfFirst)
    {
        var layers = Layers(4, 7, 7, 2);
        var g = new GraphBuilder(13);
        var h = g.Input("x", 1, 4);
        for (int l = 0; l < layers.Length; l++)
        {
            var L = layers[l];
            h = g.Node("Gemm", new[] { h, g.Init($"w{l}", new long[] { L.Out, L.In }, L.W), g.Init($"b{l}", new long[] { L.Out }, L.B) }, Int("transB", 1));
            if (l + 1 < layers.Length) h = Activate(g, h, Activation.GELU, erfGelu: true, halfFirst);
        }
        g.Output(h);
        var model = Import(g);
        Assert.Equal(Activation.GELU, model.Activation);
        AssertComputes(model, layers, Activation.GELU);
    }

    [Fact]
    public void AnErfPatternWithAWrongConstantIsABranchNotGelu()
    {
        var layers = Layers(3, 4, 2);
        var g = new GraphBuilder(13);
        var h = g.Node("Gemm", new[] { g.Input("x", "n", 3), g.Init("w0", new long[] { 4, 3 }, layers[0].W), g.Init("b0", new long[] { 4 }, layers[0].B) }, Int("transB", 1));
        var div = g.Node("Div", new[] { h, g.Scalar(2f) });   // not √2
        var erf = g.Node("Erf", new[] { div });
        var plus = g.Node("Add", new[] { erf, g.Scalar(1f) });
        var mul = g.Node("Mul", new[] { h, plus });
        h = g.Node("Mul", new[] { mul, g.Scalar(0.5f) });
        h = g.Node("Gemm", new[] { h, g.Init("w1", new long[] { 2, 4 }, layers[1].W), g.Init("b1", new long[] { 2 }, layers[1].B) }, Int("transB", 1));
        g.Output(h);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("branches", e.Message);
    }

    [Theory]
    [InlineData(Storage.FloatData)]
    [InlineData(Storage.DoubleData)]
    [InlineData(Storage.DoubleRaw)]
    public void TypedAndDoubleInitializersAreRead(Storage storage)
    {
        var layers = Layers(3, 5, 2);
        var model = Import(GemmGraph(layers, Activation.Tanh, storage));
        AssertComputes(model, layers, Activation.Tanh);
    }

    /// <summary>tf2onnx, skl2onnx and torch with a batch of rank 3: MatMul by [in, out], then Add of the bias (either operand order).</summary>
    [Fact]
    public void MatMulAndAddIsALayer()
    {
        var layers = Layers(6, 5, 4, 3);
        var g = new GraphBuilder(13);
        var h = g.Input("dense_input", "unk__6", 6);
        for (int l = 0; l < layers.Length; l++)
        {
            var L = layers[l];
            var w = g.Init($"W{l}", new long[] { L.In, L.Out }, Transpose(L.W, L.Out, L.In), Storage.FloatData);
            var b = g.Init($"B{l}", new long[] { L.Out }, L.B, Storage.FloatData);
            h = g.Node("MatMul", new[] { h, w });
            h = g.Node("Add", l % 2 == 0 ? new[] { b, h } : new[] { h, b });
            if (l + 1 < layers.Length) h = g.Node("Relu", new[] { h });
        }
        h = g.Node("Identity", new[] { h });
        g.Output(h);
        var model = Import(g);
        AssertComputes(model, layers, Activation.ReLU);
    }

    /// <summary>torch.onnx.export with do_constant_folding=False: MatMul(x, Transpose(weight)), Add(bias, ·).</summary>
    [Fact]
    public void MatMulByATransposedConstantIsALayer()
    {
        var layers = Layers(4, 6, 3);
        var g = new GraphBuilder(13);
        var h = g.Input("onnx::MatMul_0", 1, 2, 4);
        for (int l = 0; l < layers.Length; l++)
        {
            var L = layers[l];
            var t = g.Node("Transpose", new[] { g.Init($"{2 * l}.weight", new long[] { L.Out, L.In }, L.W) }, Ints("perm", 1, 0));
            h = g.Node("MatMul", new[] { h, t });
            h = g.Node("Add", new[] { g.Init($"{2 * l}.bias", new long[] { L.Out }, L.B), h });
            if (l + 1 < layers.Length) h = g.Node("Sigmoid", new[] { h });
        }
        h = g.Node("Softmax", new[] { h }, Int("axis", -1));
        g.Output(h);
        var model = Import(g);
        Assert.Equal(TaskKind.Classification, model.Task);
        AssertComputes(model, layers, Activation.Sigmoid);
    }

    [Fact]
    public void GemmWithoutTransBAndWithAlphaAndBetaFoldsThem()
    {
        var layers = Layers(3, 4, 2);
        var g = new GraphBuilder();
        var h = g.Input("x", "n", 3);
        var l0 = layers[0];
        h = g.Node("Gemm", new[] { h, g.Init("w0", new long[] { 3, 4 }, Transpose(l0.W, 4, 3)), g.Init("b0", new long[] { 1, 4 }, l0.B) },
            Float("alpha", 2f), Float("beta", 0.5f));
        h = g.Node("Relu", new[] { h });
        var l1 = layers[1];
        h = g.Node("Gemm", new[] { h, g.Init("w1", new long[] { 2, 4 }, l1.W) }, Int("transB", 1));  // no C: zero bias
        g.Output(h);
        var model = Import(g);
        var expected = new[]
        {
            l0 with { W = l0.W.Select(v => v * 2f).ToArray(), B = l0.B.Select(v => v * 0.5f).ToArray() },
            l1 with { B = new float[2] },
        };
        AssertComputes(model, expected, Activation.ReLU);
    }

    [Fact]
    public void ConstantNodeWeightsAreAccepted()
    {
        var layers = Layers(4, 5, 2);
        var g = new GraphBuilder(13);
        var h = g.Input("x", "n", 4);
        var l0 = layers[0];
        h = g.Node("Gemm", new[] { h, g.Constant(new long[] { 5, 4 }, l0.W), g.Constant(new long[] { 5 }, l0.B, Storage.FloatData) }, Int("transB", 1));
        h = g.Node("LeakyRelu", new[] { h }, Float("alpha", 0.0099999998f));
        var l1 = layers[1];
        // value_floats for the bias, a Constant tensor [in, out] for a MatMul
        var bias = g.Node("Constant", Array.Empty<string>(), new AttributeProto { Name = "value_floats", Type = AttributeProto.Types.AttributeType.Floats, Floats = { l1.B } });
        h = g.Node("MatMul", new[] { h, g.Constant(new long[] { 5, 2 }, Transpose(l1.W, 2, 5), Storage.DoubleData) });
        h = g.Node("Add", new[] { h, bias });
        g.Output(h);
        var model = Import(g);
        Assert.Equal(Activation.LeakyReLU, model.Activation);
        AssertComputes(model, layers, Activation.LeakyReLU);
    }

    [Fact]
    public void InitializersListedAmongTheInputsAreNotInputs()
    {
        var layers = Layers(3, 4, 2);
        var g = GemmGraph(layers, Activation.ReLU);
        foreach (var t in g.Graph.Initializer.ToList())
            g.Graph.Input.Add(new ValueInfoProto { Name = t.Name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        AssertComputes(Import(g), layers, Activation.ReLU);
    }

    [Theory]
    [InlineData("Softmax", TaskKind.Classification, 3)]
    [InlineData("Identity", TaskKind.Classification, 3)]
    [InlineData("Flatten", TaskKind.Classification, 3)]
    [InlineData("Identity", TaskKind.Regression, 1)]
    [InlineData(null, TaskKind.Regression, 1)]
    [InlineData(null, TaskKind.Classification, 2)]
    public void TrailingNodesAreDroppedAndTheTaskInferred(string? trailing, TaskKind task, int outputs)
    {
        var layers = Layers(4, 6, outputs);
        var model = Import(GemmGraph(layers, Activation.Tanh, trailing: trailing));
        Assert.Equal(task, model.Task);
        AssertComputes(model, layers, Activation.Tanh);
    }

    /// <summary>nn.Sequential(nn.Flatten(), nn.Linear(…), …) of images: the model takes the flattened rows.</summary>
    [Fact]
    public void ALeadingFlattenOfImagesGivesRowsOfFeatures()
    {
        var layers = Layers(6, 5, 3);
        var g = new GraphBuilder(13);
        var h = g.Node("Flatten", new[] { g.Input("image", "N", 1, 2, 3) }, Int("axis", 1));
        h = g.Node("Gemm", new[] { h, g.Init("w0", new long[] { 5, 6 }, layers[0].W), g.Init("b0", new long[] { 5 }, layers[0].B) }, Int("transB", 1));
        h = g.Node("Dropout", new[] { g.Node("Relu", new[] { h }) });   // inference: the identity
        h = g.Node("Gemm", new[] { h, g.Init("w1", new long[] { 3, 5 }, layers[1].W), g.Init("b1", new long[] { 3 }, layers[1].B) }, Int("transB", 1));
        g.Output(h);
        var model = Import(g);
        Assert.Equal(6, model.InputFeatures);
        AssertComputes(model, layers, Activation.ReLU);

        // the image's size must be the first layer's inputs
        g.Graph.Input[0].Type.TensorType.Shape.Dim[3].DimValue = 4;
        Assert.Contains("8 features", TestKit.Throws("CorruptModelFile", () => Import(g)).Message);
    }

    [Fact]
    public void AFlattenThatMergesRowsAndADropoutInTrainingModeAreRefused()
    {
        var layers = Layers(4, 3);
        var g = new GraphBuilder(13);
        var h = g.Node("MatMul", new[] { g.Input("x", 1, "N", 4), g.Init("w", new long[] { 4, 3 }, Transpose(layers[0].W, 3, 4)) });
        g.Output(g.Node("Flatten", new[] { h }, Int("axis", 1)));   // [1, N, 3] → [1, 3N]
        Assert.Contains("(Flatten)", TestKit.Throws("UnsupportedOnnxGraph", () => Import(g)).Message);

        g = GemmGraph(Layers(3, 4, 2), Activation.ReLU);
        var relu = g.Graph.Node.Single(n => n.OpType == "Relu");
        g.Graph.Initializer.Add(new TensorProto { Name = "train", DataType = (int)DataType.Bool, Dims = { }, Int32Data = { 1 } });
        var dropout = new NodeProto { OpType = "Dropout", Name = "drop", Input = { relu.Output[0], "", "train" }, Output = { "dropped" } };
        g.Graph.Node.Insert(g.Graph.Node.IndexOf(relu) + 1, dropout);
        g.Graph.Node.Single(n => n.OpType == "Gemm" && n.Input[0] == relu.Output[0]).Input[0] = "dropped";
        Assert.Contains("'drop' (Dropout)", TestKit.Throws("UnsupportedOnnxGraph", () => Import(g)).Message);
        g.Graph.Initializer.Single(t => t.Name == "train").Int32Data[0] = 0;
        Import(g);
    }

    /// <summary>SparsePrune's own export: logits and probabilities both outputs, metadata with names.</summary>
    [Fact]
    public void SparsePrunesOwnFormIsReadWithItsMetadata()
    {
        var layers = Layers(4, 5, 3);
        var g = GemmGraph(layers, Activation.GELU, erfGelu: false);
        var logits = g.Graph.Output[0].Name;
        var probs = g.Node("Softmax", new[] { logits }, Int("axis", 1));
        g.Output(probs);
        void Meta(string k, string v) => g.Model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        Meta("sparseprune.task", "Classification");
        Meta("sparseprune.widths", "[4,5,3]");
        Meta("sparseprune.activation", "GELU");
        Meta("sparseprune.class_names", "[\"setosa\",\"versicolor\",\"virginica\"]");
        Meta("sparseprune.feature_names", "[\"a\",\"b\",\"c\",\"d\"]");
        Meta("sparseprune.name", "iris-onnx");
        var model = Import(g);
        Assert.Equal("iris-onnx", model.Name);
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, model.ClassNames);
        Assert.Equal(new[] { "a", "b", "c", "d" }, model.FeatureNames);
        Assert.Equal(TaskKind.Classification, model.Task);
        AssertComputes(model, layers, Activation.GELU);
        var label = Assert.IsType<ClassPrediction>(Predictor.Predict(model, new float[] { 1, 2, 3, 4 }, 1)[0]).Label;
        Assert.Contains(label, model.ClassNames!);

        // metadata that contradicts the graph is damage
        g.Model.MetadataProps[2].Value = "ReLU";
        TestKit.Throws("CorruptModelFile", () => Import(g));
        g.Model.MetadataProps[2].Value = "GELU";
        g.Model.MetadataProps[1].Value = "[4,6,3]";
        TestKit.Throws("CorruptModelFile", () => Import(g));
        g.Model.MetadataProps[1].Value = "[4,5,3]";
        g.Model.MetadataProps[3].Value = "[\"one\",\"two\"]";
        TestKit.Throws("CorruptModelFile", () => Import(g));
    }

    [Fact]
    public void ARegressorWithMetadataTakesItsTaskFromIt()
    {
        var layers = Layers(3, 4, 2);
        var g = GemmGraph(layers, Activation.ReLU);
        g.Model.MetadataProps.Add(new StringStringEntryProto { Key = "sparseprune.task", Value = "Regression" });
        Assert.Equal(TaskKind.Regression, Import(g).Task);
    }

    // ---- skl2onnx ----------------------------------------------------------------------------

    /// <summary>
    /// An MLPClassifier or MLPRegressor as skl2onnx's converter writes it: Cast of the input, MatMul
    /// by coefficients [in, out], Add of intercepts [1, out], the activation, the out-activation;
    /// for a classifier Identity to 'probabilities', ArgMax → ArrayFeatureExtractor(classes) →
    /// Reshape (→ Cast) to 'label', and ZipMap; for a regressor Reshape to [-1, 1].
    /// </summary>
    private static GraphBuilder Skl2OnnxGraph(IReadOnlyList<Layer> layers, string activation, string[]? stringClasses, long[]? intClasses, bool zipMap)
    {
        var g = new GraphBuilder(13);
        g.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "ai.onnx.ml", Version = 1 });
        var h = g.Node("Cast", new[] { g.Input("input", "N", layers[0].In) }, Int("to", 1));
        for (int l = 0; l < layers.Count; l++)
        {
            var L = layers[l];
            h = g.Node("MatMul", new[] { h, g.Init($"coefficient{l}", new long[] { L.In, L.Out }, Transpose(L.W, L.Out, L.In)) });
            h = g.Node("Add", new[] { h, g.Init($"intercepts{l}", new long[] { 1, L.Out }, L.B) });
            if (l + 1 < layers.Count) h = g.Node(activation, new[] { h });
        }
        bool classifier = stringClasses is not null || intClasses is not null;
        if (!classifier)
        {
            h = g.Node("Identity", new[] { h });
            var shape = new TensorProto { Name = "shape_tensor", DataType = (int)DataType.Int64, Dims = { 2 }, Int64Data = { -1, 1 } };
            g.Graph.Initializer.Add(shape);
            g.Output(g.Node("Reshape", new[] { h, "shape_tensor" }));
            return g;
        }
        h = g.Node("Softmax", new[] { h });
        var probabilities = g.Node("Identity", new[] { h });
        var classes = new TensorProto { Name = "classes", DataType = (int)(stringClasses is null ? DataType.Int32 : DataType.String) };
        classes.Dims.Add(stringClasses?.Length ?? intClasses!.Length);
        if (stringClasses is not null) classes.StringData.AddRange(stringClasses.Select(ByteString.CopyFromUtf8));
        else classes.Int32Data.AddRange(intClasses!.Select(i => (int)i));
        g.Graph.Initializer.Add(classes);
        var argmax = g.Node("ArgMax", new[] { probabilities }, Int("axis", 1));
        var extracted = g.Node("ArrayFeatureExtractor", new[] { "classes", argmax });
        g.Graph.Node[^1].Domain = "ai.onnx.ml";
        g.Graph.Initializer.Add(new TensorProto { Name = "shape_label", DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { -1 } });
        var label = g.Node("Reshape", new[] { extracted, "shape_label" });
        if (intClasses is not null) label = g.Node("Cast", new[] { label }, Int("to", 7));
        g.Output(label);
        if (zipMap)
        {
            var zip = new AttributeProto { Name = stringClasses is null ? "classlabels_int64s" : "classlabels_strings", Type = stringClasses is null ? AttributeProto.Types.AttributeType.Ints : AttributeProto.Types.AttributeType.Strings };
            if (stringClasses is null) zip.Ints.AddRange(intClasses!); else zip.Strings.AddRange(stringClasses.Select(ByteString.CopyFromUtf8));
            g.Output(g.Node("ZipMap", new[] { probabilities }, zip));
            g.Graph.Node[^1].Domain = "ai.onnx.ml";
        }
        else g.Output(probabilities);
        return g;
    }

    [Theory]
    [InlineData("Relu", nameof(Activation.ReLU), true, true)]
    [InlineData("Tanh", nameof(Activation.Tanh), true, false)]
    [InlineData("Sigmoid", nameof(Activation.Sigmoid), false, true)]
    [InlineData("Relu", nameof(Activation.ReLU), false, false)]
    public void Skl2OnnxClassifiersAreReadWithTheirClassLabels(string op, string activationName, bool stringLabels, bool zipMap)
    {
        var activation = Activation.Parse(activationName);
        var layers = Layers(4, 10, 5, 3);
        var g = Skl2OnnxGraph(layers, op, stringLabels ? new[] { "setosa", "versicolor", "virginica" } : null, stringLabels ? null : new long[] { 3, 5, 9 }, zipMap);
        var model = Import(g);
        Assert.Equal(TaskKind.Classification, model.Task);
        Assert.Equal(activation, model.Activation);
        Assert.Equal(stringLabels ? new[] { "setosa", "versicolor", "virginica" } : new[] { "3", "5", "9" }, model.ClassNames);
        AssertComputes(model, layers, activation);

        // labels that do not match the outputs are damage
        var classes = g.Graph.Initializer.Single(t => t.Name == "classes");
        classes.Dims[0] = 2;
        if (stringLabels) classes.StringData.RemoveAt(2); else classes.Int32Data.RemoveAt(2);
        if (zipMap)
        {
            var zip = g.Graph.Node.Single(n => n.OpType == "ZipMap").Attribute[0];
            if (stringLabels) zip.Strings.RemoveAt(2); else zip.Ints.RemoveAt(2);
        }
        TestKit.Throws("CorruptModelFile", () => Import(g));
    }

    [Fact]
    public void Skl2OnnxRegressorIsRead()
    {
        var layers = Layers(5, 7, 1);
        var model = Import(Skl2OnnxGraph(layers, "Tanh", null, null, zipMap: false));
        Assert.Equal(TaskKind.Regression, model.Task);
        Assert.Null(model.ClassNames);
        AssertComputes(model, layers, Activation.Tanh);
    }

    [Fact]
    public void ABranchBesideTheResultThatIsNotALabelIsRefused()
    {
        var g = Skl2OnnxGraph(Layers(4, 6, 3), "Relu", new[] { "a", "b", "c" }, null, zipMap: false);
        var probabilities = g.Graph.Output.Single(o => o.Name.StartsWith("identity")).Name;
        g.Output(g.Node("Exp", new[] { probabilities }));
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("(Exp)", e.Message);
    }

    [Fact]
    public void AReshapeThatChangesTheResultIsRefused()
    {
        var g = Skl2OnnxGraph(Layers(4, 6, 1), "Relu", null, null, zipMap: false);
        g.Graph.Initializer.Single(t => t.Name == "shape_tensor").Int64Data[1] = 2;   // [-1, 2] of one output
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => Import(g));
        Assert.Contains("(Reshape)", e.Message);
    }

    // ---- sparse initializers ------------------------------------------------------------------

    private static SparseTensorProto SparseWeight(string name, Layer l, bool[] present, bool coordinates)
    {
        var positions = Enumerable.Range(0, present.Length).Where(i => present[i]).ToArray();
        var s = new SparseTensorProto { Values = Tensor(name, new long[] { positions.Length }, positions.Select(p => l.W[p]).ToArray(), Storage.Raw) };
        s.Dims.AddRange(new long[] { l.Out, l.In });
        var indices = new TensorProto { Name = name + "_indices", DataType = (int)DataType.Int64 };
        if (coordinates)
        {
            indices.Dims.AddRange(new long[] { positions.Length, 2 });
            indices.Int64Data.AddRange(positions.SelectMany(p => new long[] { p / l.In, p % l.In }));
        }
        else
        {
            indices.Dims.Add(positions.Length);
            indices.RawData = ByteString.CopyFrom(positions.SelectMany(p => BitConverter.GetBytes((long)p)).ToArray());
        }
        s.Indices = indices;
        return s;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASparseInitializerIsAConnectionPrunedLayer(bool coordinates)
    {
        var layers = Layers(6, 8, 3);
        var rng = new Random(5);
        var present = Enumerable.Range(0, 8 * 6).Select(_ => rng.NextDouble() < 0.3).ToArray();
        var g = GemmGraph(layers, Activation.ReLU);
        g.Graph.Initializer.Remove(g.Graph.Initializer.Single(t => t.Name == "0.weight"));
        g.Graph.SparseInitializer.Add(SparseWeight("0.weight", layers[0], present, coordinates));
        var model = Import(g);

        var expected = layers.ToArray();
        expected[0] = layers[0] with { W = layers[0].W.Select((v, i) => present[i] ? v : 0f).ToArray() };
        AssertComputes(model, expected, Activation.ReLU);
        var info = model.Layers[0];
        Assert.Equal(LayerStorage.Sparse, info.Stored);
        Assert.Equal(present.Count(p => p), info.Weights);
        Assert.Equal(present.Select(p => !p).ToArray(), TestKit.Bools(model.State[0].Deleted));
        Assert.Equal(LayerStorage.Dense, model.Layers[1].Stored);
        // it goes on like a model pruned here: a further pruning step keeps the deleted connections deleted
        long before = model.Weights;
        using (var plan = Pruner.Plan(model, new PruningRequest { Ratio = 0.5 })) Pruner.Apply(model, plan, null);
        var deleted = TestKit.Bools(model.State[0].Deleted);
        Assert.All(Enumerable.Range(0, present.Length).Where(i => !present[i]), i => Assert.True(deleted[i]));
        Assert.True(model.Weights < before, $"{model.Weights} weights after pruning, {before} before");
        Assert.Equal(LayerStorage.Sparse, model.Layers[1].Stored);
        Assert.InRange(model.Layers[1].Weights, 1, 8 * 3 / 2);
    }

    [Fact]
    public void ASparseInitializerWithBadIndicesIsCorrupt()
    {
        var layers = Layers(3, 4, 2);
        var present = Enumerable.Range(0, 12).Select(i => i % 3 == 0).ToArray();
        var g = GemmGraph(layers, Activation.ReLU);
        g.Graph.Initializer.Remove(g.Graph.Initializer.Single(t => t.Name == "0.weight"));
        var s = SparseWeight("0.weight", layers[0], present, coordinates: false);
        s.Indices.RawData = ByteString.CopyFrom(new long[] { 0, 3, 3, 9 }.SelectMany(BitConverter.GetBytes).ToArray());  // position 3 twice
        g.Graph.SparseInitializer.Add(s);
        Assert.Contains("twice", TestKit.Throws("CorruptModelFile", () => Import(g)).Message);
        s.Indices.RawData = ByteString.CopyFrom(new long[] { 0, 3, 6, 12 }.SelectMany(BitConverter.GetBytes).ToArray());  // 12 is outside 4 × 3
        TestKit.Throws("CorruptModelFile", () => Import(g));
    }

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
    public void LeakyReluWithAnotherSlopeKeepsItsSlope()
    {
        // Refused while SparsePrune's LeakyReLU had the slope 0.01 only (issue 22).
        var g = GemmGraph(Layers(3, 4, 2), Activation.LeakyReLU);
        g.Graph.Node.Single(n => n.OpType == "LeakyRelu").Attribute[0].F = 0.2f;
        var model = Import(g);
        Assert.Equal(Activation.Create("LeakyReLU", new[] { 0.2 }), model.Activation);
        Assert.Equal("LeakyReLU(0.2)", model.Activation.ToString());
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
