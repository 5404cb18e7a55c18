using Google.Protobuf;
using Onnx;
using Xunit;
using static SparsePrune.Tests.OnnxTestGraphs;

namespace SparsePrune.Tests;

/// <summary>
/// ONNX import of the activations in the forms exporters write, graphs built here node by node:
/// single ops with their parameters (LeakyRelu alpha, Elu alpha), the decomposed forms
/// (SiLU as x · Sigmoid(x) in either order, Softplus as Log(Exp(x) + 1) and torch's
/// Div(Softplus(Mul(x, β)), β)), and nothing between layers (Identity). The imported model's
/// outputs are compared with the closed form computed here; forms that only look alike are refused.
/// </summary>
public class OnnxGraphMatcherActivationTests
{
    /// <summary>A graph of [3 → 4 → 2] Gemm layers with the given activation nodes between them.</summary>
    private static class Graph
    {
        public static readonly float[] W0 = TestKit.RandomRows(4, 3, 3, 0.9), B0 = TestKit.RandomRows(1, 4, 4, 0.4);
        public static readonly float[] W1 = TestKit.RandomRows(2, 4, 5, 0.9), B1 = TestKit.RandomRows(1, 2, 6, 0.4);

        /// <summary>Input, Gemm, the nodes <paramref name="activation"/> adds after its input, Gemm, output.</summary>
        public static byte[] Build(Func<GraphBuilder, string, string> activation)
        {
            var g = new GraphBuilder();
            var h = g.Node("Gemm", new[] { g.Input("input"), g.Init("0.weight", new long[] { 4, 3 }, W0), g.Init("0.bias", new long[] { 4 }, B0) }, Int("transB", 1));
            h = activation(g, h);
            h = g.Node("Gemm", new[] { h, g.Init("2.weight", new long[] { 2, 4 }, W1), g.Init("2.bias", new long[] { 2 }, B1) }, Int("transB", 1));
            g.Output(h);
            return g.Bytes();
        }
    }

    private static Mlp Import(Func<GraphBuilder, string, string> activation) =>
        OnnxFormat.FromBytes(Graph.Build(activation), source: "'test.onnx'", name: "t");

    /// <summary>The imported model's outputs against the graph computed here with <paramref name="f"/> between the layers.</summary>
    private static void Computes(Mlp model, Func<double, double> f)
    {
        var x = TestKit.RandomRows(8, 3, 9, 4.0);
        var y = TestKit.Forward(model, x, 8);
        for (int r = 0; r < 8; r++)
        {
            var h = new double[4];
            for (int o = 0; o < 4; o++)
            {
                double s = Graph.B0[o];
                for (int i = 0; i < 3; i++) s += Graph.W0[o * 3 + i] * x[r * 3 + i];
                h[o] = f(s);
            }
            for (int o = 0; o < 2; o++)
            {
                double s = Graph.B1[o];
                for (int i = 0; i < 4; i++) s += Graph.W1[o * 4 + i] * h[i];
                Assert.True(Math.Abs(y[r * 2 + o] - s) <= 1e-5 * Math.Max(1, Math.Abs(s)), $"row {r} output {o}: {y[r * 2 + o]}, expected {s}");
            }
        }
    }

    private static double SoftplusOf(double x, double beta) => Math.Log(1 + Math.Exp(beta * x)) / beta;

    [Fact]
    public void LeakyReluKeepsAnySlope()
    {
        var model = Import((g, x) => g.Node("LeakyRelu", new[] { x }, Float("alpha", 0.2f)));
        Assert.Equal("LeakyReLU(0.2)", model.Activation.ToString());
        Computes(model, v => v >= 0 ? v : 0.2f * v);
        // No alpha attribute: ONNX's default 0.01.
        Assert.Equal(Activation.LeakyReLU, Import((g, x) => g.Node("LeakyRelu", new[] { x })).Activation);
    }

    [Fact]
    public void EluKeepsItsAlpha()
    {
        var model = Import((g, x) => g.Node("Elu", new[] { x }, Float("alpha", 0.5f)));
        Assert.Equal("ELU(0.5)", model.Activation.ToString());
        Computes(model, v => v > 0 ? v : 0.5 * (Math.Exp(v) - 1));
        Assert.Equal(Activation.ELU, Import((g, x) => g.Node("Elu", new[] { x })).Activation);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SiluIsReadFromXTimesSigmoidX(bool sigmoidFirst)
    {
        var model = Import((g, x) =>
        {
            var s = g.Node("Sigmoid", new[] { x });
            return g.Node("Mul", sigmoidFirst ? new[] { s, x } : new[] { x, s });
        });
        Assert.Equal(Activation.SiLU, model.Activation);
        Computes(model, v => v / (1 + Math.Exp(-v)));
    }

    [Fact]
    public void SoftplusIsReadAsItsOp()
    {
        var model = Import((g, x) => g.Node("Softplus", new[] { x }));
        Assert.Equal(Activation.Softplus, model.Activation);
        Computes(model, v => SoftplusOf(v, 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftplusIsReadAsLogOfOnePlusExp(bool oneFirst)
    {
        var model = Import((g, x) =>
        {
            var e = g.Node("Exp", new[] { x });
            var one = g.Scalar(1f);
            return g.Node("Log", new[] { g.Node("Add", oneFirst ? new[] { one, e } : new[] { e, one }) });
        });
        Assert.Equal(Activation.Softplus, model.Activation);
        Computes(model, v => SoftplusOf(v, 1));
    }

    [Fact]
    public void SoftplusWithABetaIsReadAsTorchWritesIt()
    {
        var model = Import((g, x) => g.Node("Div", new[] { g.Node("Softplus", new[] { g.Node("Mul", new[] { x, g.Scalar(2f) }) }), g.Scalar(2f) }));
        Assert.Equal("Softplus(2)", model.Activation.ToString());
        Computes(model, v => SoftplusOf(v, 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LayersWithNothingBetweenThemAreIdentity(bool identityNode)
    {
        var model = Import((g, x) => identityNode ? g.Node("Identity", new[] { x }) : x);
        Assert.Equal(Activation.Identity, model.Activation);
        Computes(model, v => v);
    }

    [Fact]
    public void FormsThatOnlyLookAlikeAreRefused()
    {
        // x · Sigmoid(y) for another y, Softplus divided by another β, Log(Exp(x) + 2): not activations.
        TestKit.Throws("UnsupportedOnnxGraph", () => Import((g, x) => g.Node("Mul", new[] { g.Node("Sigmoid", new[] { x }), g.Scalar(2f) })));
        TestKit.Throws("UnsupportedOnnxGraph", () => Import((g, x) => g.Node("Div", new[] { g.Node("Softplus", new[] { g.Node("Mul", new[] { x, g.Scalar(2f) }) }), g.Scalar(3f) })));
        TestKit.Throws("UnsupportedOnnxGraph", () => Import((g, x) => g.Node("Log", new[] { g.Node("Add", new[] { g.Node("Exp", new[] { x }), g.Scalar(2f) }) })));
    }

    [Fact]
    public void MixingSiluWithAnotherActivationIsRefused()
    {
        var model = Mlp.Create(new[] { 3, 4, 4, 2 }, Activation.SiLU, seed: 2);
        var proto = ModelProto.Parser.ParseFrom(OnnxFormat.ToBytes(model));
        proto.MetadataProps.Clear();
        // The second layer's SiLU (Sigmoid, Mul) becomes a Relu.
        var nodes = proto.Graph.Node;
        var sigmoid = nodes.Last(n => n.OpType == "Sigmoid");
        var mul = nodes.Single(n => n.OpType == "Mul" && n.Input.Contains(sigmoid.Output[0]));
        var relu = new NodeProto { OpType = "Relu", Name = "relu" };
        relu.Input.Add(sigmoid.Input[0]);
        relu.Output.Add(mul.Output[0]);
        nodes.Insert(nodes.IndexOf(sigmoid), relu);
        nodes.Remove(sigmoid);
        nodes.Remove(mul);
        var e = TestKit.Throws("UnsupportedOnnxGraph", () => OnnxFormat.FromBytes(proto.ToByteArray()));
        Assert.Contains("mixes activations", e.Message);
    }
}
