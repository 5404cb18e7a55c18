using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Invoke-Quantization: k-means with linear initialization against hand-computed centroids,
/// quantized layers holding only shared values (zeros and masks untouched), the shared-gradient
/// rule against autograd, fine-tuning that keeps the sharing and the masks, the linear grid, the
/// .spmlp round trip and its checks, and the refusals.
/// </summary>
public class QuantizerTests
{
    [Fact]
    public void KMeansWithLinearInitializationGivesTheHandComputedCentroids()
    {
        // Two clusters: init 1 and 12; {1,2,3} and {10,11,12} keep their sides; means 2 and 11.
        Assert.Equal(new[] { 2f, 11f }, KMeans1D.Centroids(new[] { 11f, 1, 12, 3, 2, 10 }, 2));
        // Three: init -1, 0, 1; -1 and -0.9 go left, 0.1 and 0.2 to 0, 0.95 and 1 right; then nothing moves.
        var c = KMeans1D.Centroids(new[] { -1f, -0.9f, 0.1f, 0.2f, 0.95f, 1f }, 3);
        Assert.Equal(3, c.Length);
        Assert.Equal((float)((-1.0 + (double)-0.9f) / 2), c[0]);
        Assert.Equal((float)(((double)0.1f + (double)0.2f) / 2), c[1]);
        Assert.Equal((float)(((double)0.95f + 1.0) / 2), c[2]);
        // Fewer distinct values than clusters: one centroid each.
        Assert.Equal(new[] { 3f, 5f }, KMeans1D.Centroids(new[] { 5f, 3, 3 }, 4));
        // Ties go to the lower centroid; beyond the ends, the end.
        Assert.Equal(0, KMeans1D.Nearest(new[] { 0f, 2f }, 1f));
        Assert.Equal(1, KMeans1D.Nearest(new[] { 0f, 2f }, 9f));
    }

    [Fact]
    public void QuantizedLayersHoldOnlySharedValuesAndKeepTheirZerosAndMasks()
    {
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 7);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 2, Seed = 1 });
        TestKit.Sparsify(model, 0.5);
        var masked = Enumerable.Range(0, 2).Select(l => TestKit.Floats(model.State[l].MaskedValues)).ToArray();
        var zerosBefore = Enumerable.Range(0, 2).Select(l => TestKit.W(model, l).Select((v, i) => (v, i)).Where(p => p.v == 0).Select(p => p.i).ToHashSet()).ToArray();

        var plan = Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 3, 2 } });
        Quantizer.Apply(model, plan, TestKit.Digits);

        for (int l = 0; l < 2; l++)
        {
            var q = model.State[l].Quantization!;
            Assert.Equal(l == 0 ? 3 : 2, q.Bits);
            Assert.True(q.Codebook.Length <= 1 << q.Bits && q.Codebook.Length > 1);
            var w = TestKit.W(model, l);
            var zeros = w.Select((v, i) => (v, i)).Where(p => p.v == 0).Select(p => p.i).ToHashSet();
            Assert.Equal(zerosBefore[l], zeros); // no zero moved, no weight became zero
            Assert.All(w.Where(v => v != 0), v => Assert.Contains(v, q.Codebook));
            Assert.Equal(masked[l], TestKit.Floats(model.State[l].MaskedValues)); // the values behind the mask are kept
        }
        Assert.Equal("Quantize", model.History[^1].Operation);
        Assert.Equal("KMeans", model.History[^1].Settings["Method"].ToString());
        Assert.Equal(new[] { 3, 2 }, model.History[^1].Settings["Bits"]);
    }

    [Fact]
    public void EachWeightsGradientBecomesTheSumOfItsClustersGradientsAsAutogradGivesIt()
    {
        var model = Mlp.Create(new[] { 4, 6, 3 }, Activation.Tanh, seed: 3);
        TestKit.SetWeight(model, 0, Enumerable.Range(0, 24).Select(k => k % 5 == 0 ? 0f : (k % 4 - 1.5f) / 4).ToArray());
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 2 } }), null);
        var q = model.State[0].Quantization!;
        var w0 = TestKit.W(model, 0);
        var codes = w0.Select(v => v == 0 ? q.Codebook.Length : Array.IndexOf(q.Codebook, v)).Select(c => (long)c).ToArray();

        using var scope = NewDisposeScope();
        var x = randn(5, 4, generator: new TorchSharp.torch.Generator(11));
        var y = tensor(new long[] { 0, 1, 2, 1, 0 });
        // Autograd on the codebook itself: W = [codebook, 0][codes].
        var codebook = tensor(q.Codebook.Append(0f).ToArray()).requires_grad_(true);
        var w = codebook.index_select(0, tensor(codes)).reshape(6, 4);
        var p1 = (W: model.State[1].Weight.detach(), B: model.State[1].Bias.detach());
        var logits = nn.functional.linear(nn.functional.linear(x, w, model.State[0].Bias.detach()).tanh(), p1.W, p1.B);
        nn.functional.cross_entropy(logits, y).backward();
        var expected = TestKit.Floats(codebook.grad!);

        // The trainer's path: gradients of free weights, then tied.
        var parameters = model.State.Select(l => (W: new Parameter(l.Weight.detach().clone(), requires_grad: true), B: new Parameter(l.Bias.detach().clone(), requires_grad: true))).ToList();
        var out2 = model.Forward(x, parameters.Select(p => ((Tensor)p.W, (Tensor)p.B)).ToList());
        nn.functional.cross_entropy(out2, y).backward();
        using var sharing = SharedGradients.For(model)!;
        sharing.Tie(parameters);
        var tied = TestKit.Floats(parameters[0].W.grad!);
        Assert.Contains(expected.Take(q.Codebook.Length), g => Math.Abs(g) > 1e-6);
        for (int i = 0; i < tied.Length; i++)
        {
            float want = codes[i] == q.Codebook.Length ? 0f : expected[codes[i]];
            Assert.True(Math.Abs(tied[i] - want) <= 1e-6 + 1e-5 * Math.Abs(want), $"weight {i}: tied {tied[i]}, autograd {want}");
        }
        Assert.Null(SharedGradients.For(Mlp.Create(new[] { 4, 3 }, seed: 1))); // nothing quantized, nothing tied
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.SGD)]
    public void FineTuningTrainsTheSharedValuesAndKeepsTheSharingAndTheMasks(OptimizerKind optimizer)
    {
        var data = TestKit.Digits;
        var model = Mlp.Create(new[] { 64, 32, 10 }, seed: 9);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 2, Seed = 1 });
        TestKit.Sparsify(model, 0.6);
        var keep = Enumerable.Range(0, 2).Select(l => TestKit.Bools(model.State[l].Keep)).ToArray();
        var plan = Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 3 } });
        Quantizer.Apply(model, plan, data, fineTuneEpochs: 2, new TrainingOptions { Optimizer = optimizer, Momentum = optimizer == OptimizerKind.SGD ? 0.9 : 0, Seed = 2 });
        for (int l = 0; l < 2; l++)
        {
            var q = model.State[l].Quantization!;
            Assert.NotEqual(plan.Layers[l].Codebook, q.Codebook); // the shared values trained
            var w = TestKit.W(model, l);
            Assert.All(w.Where(v => v != 0), v => Assert.Contains(v, q.Codebook)); // members stayed equal
            for (int i = 0; i < w.Length; i++) if (!keep[l][i]) Assert.Equal(0f, w[i]); // masks held
        }
        Assert.Equal("FineTune", model.History[^1].Operation);
    }

    [Fact]
    public void LinearQuantizationPutsEveryRowOnItsGridWithZeroExact()
    {
        var model = Mlp.Create(new[] { 4, 10, 3 }, seed: 4);
        TestKit.SetWeight(model, 0, Enumerable.Range(0, 40).Select(k => k % 7 == 0 ? 0f : (k * 37 % 23 - 11) / 10f).ToArray());
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear, Bits = new[] { 4 } }), null);
        var q = model.State[0].Quantization!;
        var w = TestKit.W(model, 0);
        for (int r = 0; r < 10; r++)
        {
            var levels = Enumerable.Range(-8, 16).Select(n => (n - q.RowZeroPoints![r]) * q.RowScales![r]).ToHashSet();
            for (int c = 0; c < 4; c++)
            {
                int k = r * 4 + c;
                if (k % 7 == 0) Assert.Equal(0f, w[k]);
                else Assert.Contains(w[k], levels);
            }
        }
        // A linear grid has nothing to train: training is refused unless it dequantizes.
        TestKit.Throws("ModelQuantized", () => Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1 }));
    }

    [Fact]
    public void SpmlpFilesKeepTheQuantizationAndRefuseWeightsOffIt()
    {
        var model = Mlp.Create(new[] { 64, 16, 10 }, seed: 5);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 4 } }), null);
        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(model.State[l].Quantization!.Codebook, copy.State[l].Quantization!.Codebook);
            Assert.Equal(TestKit.W(model, l), TestKit.W(copy, l));
        }
        // Format 3 stores codes, so a weight off the codebook cannot be written (SpmlpFormat3Tests);
        // a version 2 file whose metadata codebook contradicts a weight is refused on reading.
        var v2 = Version2WithQuantizationInMetadata(model);
        Assert.Equal(model.State[0].Quantization!.Codebook, SpmlpFormat.FromBytes(v2).State[0].Quantization!.Codebook);
        var w = TestKit.W(model, 0);
        int i = Array.FindIndex(w, v => v != 0);
        w[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w[i]) + 1);
        var off = model.Clone();
        TestKit.SetWeight(off, 0, w);
        TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(Version2WithQuantizationInMetadata(off)));
        // A version 3 file keeps the quantization in its layer sections: one in the metadata too is refused.
        // (A file with plain metadata: the first version 3 files, still read; current ones compress it.)
        var v3 = WithQuantizationInMetadata(SpmlpFormat.ToBytes(model, null, compact: false), model.State.Select(l => l.Quantization).ToArray());
        var e = TestKit.Throws("CorruptModelFile", () => SpmlpFormat.FromBytes(v3));
        Assert.Contains("keeps it in the layer sections", e.Message);
    }

    /// <summary>The version 2 file an earlier SparsePrune wrote for a quantized model: float32 weights, the quantization in the metadata JSON.</summary>
    private static byte[] Version2WithQuantizationInMetadata(Mlp model)
    {
        var quantization = model.State.Select(l => l.Quantization).ToArray();
        var plain = model.Clone();
        foreach (var l in plain.State) l.Quantization = null;
        var bytes = SpmlpFormat.ToBytes(plain);
        Assert.Equal(2, System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        return WithQuantizationInMetadata(bytes, quantization);
    }

    /// <summary>The file with its metadata's Quantization entry set to <paramref name="quantization"/> (length and checksum fixed).</summary>
    private static byte[] WithQuantizationInMetadata(byte[] bytes, LayerQuantization?[] quantization)
    {
        int metaLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(SpmlpReferenceReader.Header));
        var json = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(SpmlpReferenceReader.Header + 4, metaLength))!;
        // As version 2 wrote it (the current writer keeps the quantization in the layer sections).
        var records = quantization.Select(q => q is null ? null : new LayerQuantizationRecord
        {
            Method = q.Scheme.Name, Bits = q.Bits, Codebook = q.Codebook.Length > 0 ? q.Codebook : null, RowScales = q.RowScales, RowZeroPoints = q.RowZeroPoints,
        });
        json["Quantization"] = System.Text.Json.JsonSerializer.SerializeToNode(records.ToArray());
        var meta = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
        var prefix = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(prefix, meta.Length);
        return SpmlpReferenceReader.Splice(bytes, SpmlpReferenceReader.Header, 4 + metaLength, prefix.Concat(meta).ToArray());
    }

    [Fact]
    public void SafeTensorsExportsTheEffectiveWeightsOfAQuantizedModel()
    {
        var model = Mlp.Create(new[] { 64, 24, 10 }, seed: 8);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 1, Seed = 1 });
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 3 } }), null);
        var copy = SafeTensorsFormat.FromBytes(SafeTensorsFormat.ToBytes(model));
        var rows = TestKit.Digits.TestX.Take(64 * 8).ToArray();
        using var scope = NewDisposeScope();
        var x = NativeCopy.Floats(rows, new long[] { 8, 64 });
        using var noGrad = no_grad();
        var a = TestKit.Floats(model.Forward(model.NormalizeInputs(x)));
        var b = TestKit.Floats(copy.Forward(copy.NormalizeInputs(x)));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * Math.Max(1, Math.Abs(a[i])), $"output {i}: {a[i]} vs {b[i]}");
        Assert.True(TestKit.W(copy, 1).Where(v => v != 0).Distinct().Count() <= 8, "the export carries the shared values, not free weights");
    }

    [Fact]
    public void AQuantizedModelRefusesSparsifyingAndPruningAndBadBitsAreRefused()
    {
        var model = Mlp.Create(new[] { 4, 5, 3 }, seed: 2);
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 0 } }));
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 9 } }));
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 4, 4, 4 } }));
        TestKit.Throws("InvalidBits", () => Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.Linear, Bits = new[] { 1 } }));
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest()), null);
        var before = TestKit.W(model, 0);
        TestKit.Throws("ModelQuantized", () => Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5 }));
        TestKit.Throws("ModelQuantized", () => Pruner.Plan(model, new PruningRequest { Ratio = 0.5 }));
        Assert.Equal(before, TestKit.W(model, 0));
        // -Dequantize: free weights again, from their quantized values.
        Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1, Dequantize = true });
        Assert.All(model.State, l => Assert.Null(l.Quantization));
    }
}
