using System.Buffers.Binary;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The power-of-two grid, the scheme added as one class: its levels (0 and ±2^e for 2^(bits−1) − 1
/// exponents up to the power nearest the layer's largest magnitude), nearest-value rounding, and
/// the whole path: Invoke-Quantization -Method PowerOfTwo, a .spmlp round trip with one byte of
/// parameters, ONNX export as float32 values, and the refusals a grid gets (fine-tuning, training).
/// </summary>
public class PowerOfTwoGridTests
{
    private static readonly PowerOfTwoGrid Scheme = (PowerOfTwoGrid)QuantizationScheme.Named("PowerOfTwo")!;

    private static Mlp Quantized(int[] sizes, int seed, int bits = 4)
    {
        var model = Mlp.Create(sizes, seed: seed);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.PowerOfTwo, Bits = new[] { bits } }), null);
        return model;
    }

    [Fact]
    public void LevelsArePowersOfTwoUpToTheNearestOfTheLargestMagnitude()
    {
        // Largest magnitude 0.7 < 1.5 · 2^−1: the largest power is 2^−1; 4 bits give 7 exponents, −1..−7.
        var q = Scheme.Fit(new[] { 0.3f, -0.7f, 0f, 0.001f }, 1, 4, 4);
        var powers = Enumerable.Range(1, 7).Select(e => MathF.ScaleB(1f, -e)).ToArray();
        Assert.Equal(powers.Select(p => -p).Append(0f).Concat(powers).OrderBy(v => v), q.Codebook);
        Assert.Equal(15, Scheme.Alphabet(q));
        Assert.Equal("PowerOfTwo 4-bit (±2^-7..2^-1)", q.ToString());
        // 0.75 = 1.5 · 2^−1 and up: 2^0.
        Assert.Equal(1f, Scheme.Fit(new[] { 0.75f }, 1, 1, 2).Codebook[^1]);
        Assert.Equal(new[] { -1f, 0f, 1f }, Scheme.Fit(new[] { -0.75f }, 1, 1, 2).Codebook);

        Assert.Equal(0.25f, Scheme.Round(q, 0, 0.3f)); // nearest value: 0.25, not 0.5
        Assert.Equal(-0.5f, Scheme.Round(q, 0, -0.7f)); // beyond the largest: the largest
        Assert.Equal(0f, Scheme.Round(q, 0, 0.001f)); // below half of 2^−7: zero
        Assert.Equal(MathF.ScaleB(1f, -7), Scheme.Round(q, 0, 0.005f));
        Assert.Equal(1, Scheme.ParameterBytes(q));
        Assert.False(Scheme.HasSharedValues);
    }

    [Fact]
    public void ExtremeLayersKeepRepresentablePowers()
    {
        // All zeros: any exponent does. Tiny weights: the largest exponent a file holds is −128 at
        // least (one signed byte), and the powers stop at float32's smallest, 2^−149: 22 of them.
        Assert.Equal(0f, Scheme.Round(Scheme.Fit(new float[4], 2, 2, 3), 1, 0f));
        var tiny = Scheme.Fit(new[] { MathF.ScaleB(1f, -140) }, 1, 1, 8);
        Assert.Equal(MathF.ScaleB(1f, -128), tiny.Codebook[^1]);
        Assert.Equal(MathF.ScaleB(1f, -149), tiny.Codebook[tiny.Codebook.Length / 2 + 1]);
        Assert.Equal(2 * 22 + 1, Scheme.Alphabet(tiny));
        Assert.Equal(MathF.ScaleB(1f, -140), Scheme.Round(tiny, 0, MathF.ScaleB(1f, -140)));
        var huge = Scheme.Fit(new[] { float.MaxValue }, 1, 1, 8);
        Assert.Equal(MathF.ScaleB(1f, 127), huge.Codebook[^1]);
        foreach (var q in new[] { tiny, huge })
        {
            using var stream = new MemoryStream();
            using (var w = new BinaryWriter(stream)) Scheme.WriteParameters(w, q);
            Assert.Equal(q.Codebook, Scheme.ReadParameters(QuantizationSchemeTests.Source(stream.ToArray()), 8, 1, "layer 0").Codebook);
        }
    }

    [Fact]
    public void InvokeQuantizationPutsEveryWeightOnPowersOfTwo()
    {
        var model = Quantized(new[] { 12, 9, 4 }, seed: 21);
        var plan = Quantizer.Plan(Mlp.Create(new[] { 12, 9, 4 }, seed: 21), new QuantizationRequest { Method = QuantizationMethod.PowerOfTwo });
        Assert.Equal(new[] { 4, 4 }, plan.Bits);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var q = model.State[l].Quantization!;
            Assert.Same(Scheme, q.Scheme);
            foreach (var v in TestKit.W(model, l).Where(v => v != 0))
            {
                Assert.Equal(MathF.ScaleB(1f, MathF.ILogB(v)), MathF.Abs(v)); // a power of two
                Assert.Contains(v, q.Codebook);
            }
        }
        var last = model.History[^1];
        Assert.Equal("Quantize", last.Operation);
        Assert.Contains("Quantize Method=PowerOfTwo Bits=4,4", last.ToString());
    }

    [Fact]
    public void SpmlpKeepsTheGridInOneByteAndChecksEveryWeight()
    {
        var model = Quantized(new[] { 10, 8, 3 }, seed: 5, bits: 3);
        var bytes = SpmlpFormat.ToBytes(model);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        var copy = SpmlpFormat.FromBytes(bytes);
        for (int l = 0; l < model.LayerCount; l++)
        {
            TestKit.BitEqual(TestKit.W(model, l), TestKit.W(copy, l), $"layer {l}'s weights");
            Assert.Same(Scheme, copy.State[l].Quantization!.Scheme);
            Assert.Equal(model.State[l].Quantization!.Codebook, copy.State[l].Quantization!.Codebook);
        }
        // The report counts one parameter byte plus the coded codes (at most 3 bits for each of 80 weights) and the biases.
        Assert.InRange(SpmlpFormat.LayerWeightBytes(model.State[0], coded: true), 1 + 4L * 8, 1 + 80 * 3 / 8 + 16 + 4L * 8);

        // A weight moved off its grid behind the quantization's back cannot be written.
        var w = TestKit.W(model, 0);
        int k = Array.FindIndex(w, v => v != 0);
        w[k] *= 1.5f;
        TestKit.SetWeight(model, 0, w);
        var e = Assert.ThrowsAny<Exception>(() => SpmlpFormat.ToBytes(model));
        Assert.Contains("not a power of two of its grid", e.Message);
    }

    [Fact]
    public void OnnxExportWritesThePowersAsFloat32()
    {
        var model = Quantized(new[] { 6, 5, 3 }, seed: 9);
        Assert.False(OnnxWriter.WritesInt8(model.State[0]));
        var file = OnnxFormat.ToBytes(model);
        var proto = Onnx.ModelProto.Parser.ParseFrom(file);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "DequantizeLinear");
        Assert.All(proto.Graph.Initializer, t => Assert.Equal((int)Onnx.TensorProto.Types.DataType.Float, t.DataType));
        var back = OnnxFormat.FromBytes(file);
        for (int l = 0; l < model.LayerCount; l++) TestKit.BitEqual(TestKit.W(model, l), TestKit.W(back, l), $"layer {l}'s weights");
    }

    [Fact]
    public void AGridHasNoSharedValuesToTrain()
    {
        var model = Quantized(new[] { 64, 8, 10 }, seed: 2);
        var request = new QuantizationRequest { Method = QuantizationMethod.PowerOfTwo };
        var e = TestKit.Throws("ParameterNotApplicable", () => Quantizer.CheckFineTune(request, 1, TestKit.Digits, model));
        Assert.Contains("-Method KMeans); a power-of-two grid has none to train", e.Message);
        e = TestKit.Throws("ModelQuantized", () => Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 }));
        Assert.Contains("quantized on a power-of-two grid", e.Message);
        Assert.Null(SharedGradients.For(model));
        TestKit.Throws("ModelQuantized", () => TestKit.Sparsify(model, 0.5));
    }
}
