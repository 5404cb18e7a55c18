using Google.Protobuf;
using Onnx;
using Xunit;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SparsePrune.Tests;

/// <summary>
/// ONNX graphs built by hand for the reader's tests (<see cref="OnnxReaderTests"/>,
/// <see cref="OnnxReadErrorsTests"/>): a ModelProto built node by node with the generated message
/// classes, layers of known values, and what such a graph computes, in managed double precision.
/// </summary>
public static class OnnxTestGraphs
{
    // ---- building graphs ---------------------------------------------------------------------

    public enum Storage { Raw, FloatData, DoubleData, DoubleRaw }

    /// <summary>A ModelProto under construction, one node at a time.</summary>
    internal sealed class GraphBuilder
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

    internal static TensorProto Tensor(string name, long[] dims, float[] values, Storage storage)
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

    internal static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    internal static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    internal static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
    internal static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    /// <summary>A layer's values as the test knows them: weight [out, in] row-major, bias [out].</summary>
    internal sealed record Layer(int Out, int In, float[] W, float[] B);

    internal static Layer RandomLayer(int inputs, int outputs, int seed) =>
        new(outputs, inputs, TestKit.RandomRows(outputs, inputs, seed, 0.8), TestKit.RandomRows(1, outputs, seed + 1000, 0.3));

    internal static float[] Transpose(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
        return t;
    }

    // ---- the graph computed here -----------------------------------------------------------

    /// <summary>erf, Abramowitz and Stegun 7.1.26 (|error| below 1.5e-7).</summary>
    internal static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }

    internal static double Act(double v, Activation a) => a == Activation.GELU ? 0.5 * v * (1 + Erf(v / Math.Sqrt(2))) : TestKit.Act(v, a);

    /// <summary>Linear layers with the activation between them, in double: what the graph computes before any trailing Softmax.</summary>
    internal static double[] Expected(IReadOnlyList<Layer> layers, Activation activation, float[] x, int rows)
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
    internal static void AssertComputes(Mlp model, IReadOnlyList<Layer> layers, Activation activation)
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

    internal static readonly Activation[] AllActivations = { Activation.ReLU, Activation.Tanh, Activation.Sigmoid, Activation.LeakyReLU, Activation.GELU };

    /// <summary>The activation as one ONNX node (Gelu: the opset 20 op), or GELU's Erf form when <paramref name="erfGelu"/>.</summary>
    internal static string Activate(GraphBuilder g, string x, Activation a, bool erfGelu = false, bool halfFirst = false)
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
    internal static GraphBuilder GemmGraph(IReadOnlyList<Layer> layers, Activation activation, Storage storage = Storage.Raw, bool erfGelu = false, string? trailing = null)
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

    internal static Layer[] Layers(params int[] widths) =>
        Enumerable.Range(0, widths.Length - 1).Select(i => RandomLayer(widths[i], widths[i + 1], 10 * i + widths[i])).ToArray();

    internal static Mlp Import(GraphBuilder g, string name = "test-model") => OnnxFormat.FromBytes(g.Bytes(), source: "'test.onnx'", name: name);
}
