using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Folding the input normalization into layer 0: the model then takes raw rows and predicts as
/// before within float rounding; where it would not, or cannot, the model is left as it was.
/// </summary>
public class InputFoldingTests
{
    /// <summary>Digits' test rows as raw values (the data set keeps them standardized).</summary>
    private static float[] RawRows(Dataset data)
    {
        var x = data.TestX;
        var raw = new float[x.Length];
        for (long i = 0; i < x.LongLength; i++)
        {
            int j = (int)(i % data.Features);
            raw[i] = (float)((double)x[i] * data.Scale[j] + data.Offset[j]);
        }
        return raw;
    }

    /// <summary>What Invoke-Mlp computes for raw rows: the model's normalization, then the layers.</summary>
    private static float[] Predict(Mlp model, float[] raw)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = tensor(raw, new long[] { raw.Length / model.InputFeatures, model.InputFeatures });
        return model.Forward(model.NormalizeInputs(x)).data<float>().ToArray();
    }

    private static Mlp Trained(Activation activation, string kind)
    {
        var model = Mlp.Create(new[] { 64, 32, 16, 10 }, activation, seed: 11);
        Trainer.Train(model, TestKit.Digits, new TrainingOptions { Epochs = 2, Seed = 1 });
        switch (kind)
        {
            case "Masked": TestKit.Sparsify(model, 0.6); break;
            case "Pruned": TestKit.Prune(model, 0.9); break;
            case "NeuronPruned": TestKit.Prune(model, 0.25, PruneStructure.Neuron); break;
        }
        return model;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = expected.Max(v => Math.Abs((double)v));
        double worst = expected.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        Assert.True(worst <= tolerance * Math.Max(1, max), $"largest output change {worst:G3}, allowed {tolerance * Math.Max(1, max):G3}");
    }

    [Theory]
    [InlineData("ReLU", "Dense")]
    [InlineData("ReLU", "Masked")]
    [InlineData("ReLU", "Pruned")]
    [InlineData("ReLU", "NeuronPruned")]
    [InlineData("Tanh", "Dense")]
    [InlineData("Tanh", "Masked")]
    [InlineData("Tanh", "Pruned")]
    [InlineData("Tanh", "NeuronPruned")]
    public void AFoldedModelPredictsRawRowsAsTheUnfoldedOneDid(string activation, string kind)
    {
        var model = Trained(activation == "ReLU" ? Activation.ReLU : Activation.Tanh, kind);
        var raw = RawRows(TestKit.Digits);
        var before = Predict(model, raw);
        var scale = model.FeatureScale!.ToArray();
        var deletedBefore = TestKit.Bools(model.State[0].Deleted);
        var keepBefore = TestKit.Bools(model.State[0].Keep?.to_type(ScalarType.Bool));
        var hiddenBefore = TestKit.Floats(model.State[0].MaskedValues);
        var zerosBefore = TestKit.ZeroSet(TestKit.W(model, 0));
        int history = model.History.Count;
        var metric = Evaluator.Evaluate(model, TestKit.Digits).Value;

        Assert.True(InputFolding.Fold(model, includeScales: true));

        AssertClose(before, Predict(model, raw), 1e-5);
        Assert.True(InputFolding.IsIdentity(model.Scaling!));
        Assert.Equal(zerosBefore, TestKit.ZeroSet(TestKit.W(model, 0))); // nothing deleted or masked came back
        Assert.Equal(deletedBefore, TestKit.Bools(model.State[0].Deleted));
        Assert.Equal(keepBefore, TestKit.Bools(model.State[0].Keep?.to_type(ScalarType.Bool)));
        var hidden = TestKit.Floats(model.State[0].MaskedValues);
        for (int k = 0; k < hidden.Length; k++)
            Assert.Equal(hiddenBefore[k] == 0 ? 0f : (float)(hiddenBefore[k] / (double)scale[k % 64]), hidden[k]);
        Assert.Equal(history + 1, model.History.Count);
        Assert.Equal("FoldInputScaling", model.History[^1].Operation);
        Assert.Equal(Normalization.Standard, model.History[^1].Settings["Normalization"]);
        // The data set still attached is mapped back to raw rows: the metric is the same.
        Assert.Equal(metric, Evaluator.Evaluate(model, TestKit.Digits).Value, 6);
    }

    [Fact]
    public void AFoldedModelRoundTripsThroughSpmlpAndStillTakesRawRows()
    {
        var model = Trained(Activation.ReLU, "Pruned");
        var raw = RawRows(TestKit.Digits);
        InputFolding.Fold(model, includeScales: true);
        var expected = Predict(model, raw);
        var read = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        Assert.Equal(expected, Predict(read, raw));
        Assert.True(InputFolding.IsIdentity(read.Scaling!));
        Assert.Equal("FoldInputScaling", read.History[^1].Operation);
        // A data set attached to the read model is mapped to raw rows, as it was before writing.
        read.AttachDataset(TestKit.Digits);
        Assert.Equal(Evaluator.Evaluate(model, TestKit.Digits).Value, Evaluator.Evaluate(read, TestKit.Digits).Value);
        // Already raw: a second fold changes nothing.
        Assert.False(InputFolding.Fold(read, includeScales: true));
        Assert.False(InputFolding.Fold(read));
        Assert.Equal(model.History.Count, read.History.Count);
    }

    [Fact]
    public void AFoldThatWouldChangePredictionsIsRefusedAndTheModelIsUnchanged()
    {
        var model = Trained(Activation.ReLU, "Dense");
        // A feature far from 0 with a tiny spread: its weights grow by 1e3 and the bias takes
        // 1e7 times them, which cancel against the input only to float32's 7 digits.
        var offset = model.FeatureOffset!.ToArray();
        var scale = model.FeatureScale!.ToArray();
        offset[20] = 1e4f;
        scale[20] = 1e-3f;
        model.Scaling = new InputScaling(Normalization.Standard, offset, scale);
        var raw = RawRows(TestKit.Digits);
        var rng = new Random(5);
        for (int r = 0; r < raw.Length / 64; r++) raw[r * 64 + 20] = 1e4f + (float)(rng.NextDouble() - 0.5) * 4e-3f;
        var w = TestKit.W(model, 0);
        var b = model.GetBias(0);
        int history = model.History.Count;

        var e = TestKit.Throws("FoldChangesPredictions", () => InputFolding.Fold(model, rawRows: raw, includeScales: true));
        Assert.Contains("unchanged", e.Message);
        Assert.Equal(w, TestKit.W(model, 0));
        Assert.Equal(b, model.GetBias(0));
        Assert.Equal(offset, model.FeatureOffset);
        Assert.Equal(scale, model.FeatureScale);
        Assert.Equal(history, model.History.Count);
    }

    [Fact]
    public void AScaleThatOverflowsFloat32IsRefusedAndTheModelIsUnchanged()
    {
        var model = Trained(Activation.ReLU, "Dense");
        var scale = model.FeatureScale!.ToArray();
        scale[30] = 1e-44f;
        model.Scaling = new InputScaling(Normalization.Standard, model.FeatureOffset!.ToArray(), scale);
        var w = TestKit.W(model, 0);
        TestKit.Throws("CannotFoldNormalization", () => InputFolding.Fold(model, includeScales: true));
        Assert.Equal(w, TestKit.W(model, 0));
        Assert.Equal(scale, model.FeatureScale);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheOffsetsFoldAloneByDefaultAndAQuantizedFirstLayerKeepsItsCodebook(bool quantized)
    {
        var model = Trained(Activation.Tanh, "Pruned");
        if (quantized) Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 3 } }), null);
        var raw = RawRows(TestKit.Digits);
        var before = Predict(model, raw);
        var w = TestKit.W(model, 0);
        var scale = model.FeatureScale!.ToArray();
        var quantization = model.State[0].Quantization;
        if (quantized)
        {
            TestKit.Throws("CannotFoldQuantizedLayer", () => InputFolding.Fold(model, includeScales: true));
            Assert.Equal(w, TestKit.W(model, 0));
        }

        Assert.True(InputFolding.Fold(model));

        AssertClose(before, Predict(model, raw), 1e-5);
        Assert.Equal(w, TestKit.W(model, 0));
        Assert.Same(quantization, model.State[0].Quantization);
        Assert.All(model.FeatureOffset!, v => Assert.Equal(0f, v));
        // Inputs whose every connection is deleted are read by nothing: their scale becomes 1.
        var deleted = TestKit.Bools(model.State[0].Deleted);
        var dead = Enumerable.Range(0, 64).Select(c => Enumerable.Range(0, model.State[0].OutFeatures).All(r => deleted[r * 64 + c])).ToArray();
        Assert.Contains(true, dead);
        Assert.Equal(scale.Select((v, c) => dead[c] ? 1f : v), model.FeatureScale!);
        Assert.Equal(false, model.History[^1].Settings["IncludeScale"]);
        var read = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        Assert.Equal(Predict(model, raw), Predict(read, raw));
        // The offsets are gone: nothing more to fold but the scales, which a quantized layer keeps.
        Assert.False(InputFolding.Fold(model));
        if (quantized) TestKit.Throws("CannotFoldQuantizedLayer", () => InputFolding.Fold(model, includeScales: true));
        else Assert.True(InputFolding.Fold(model, includeScales: true));
    }

    [Fact]
    public void NoScalingNoRowsAndBadRowsAreRefused()
    {
        var model = Trained(Activation.ReLU, "Dense");
        TestKit.Throws("NoInputScaling", () => InputFolding.Fold(Mlp.Create(new[] { 4, 3 }, seed: 1)));
        var detached = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model)); // a read model has no data set
        TestKit.Throws("DatasetRequired", () => InputFolding.Fold(detached));
        TestKit.Throws("InvalidRows", () => InputFolding.Fold(model, rawRows: new float[65]));
        TestKit.Throws("InvalidTolerance", () => InputFolding.Fold(model, tolerance: 0));
        Assert.False(InputFolding.IsIdentity(model.Scaling!));
    }

    [Fact]
    public void ScaleBitsRoundTheKeptScalesAndTheCheckStillGuardsTheOutputs()
    {
        var model = Trained(Activation.ReLU, "Pruned");
        var raw = RawRows(TestKit.Digits);
        var before = Predict(model, raw);
        var scale = model.FeatureScale!.ToArray();
        var w = TestKit.W(model, 0);
        // One bit moves the scales by up to a third: far beyond the default tolerance.
        var e = TestKit.Throws("FoldChangesPredictions", () => InputFolding.Fold(model, scaleBits: 1));
        Assert.Contains("ScaleBits", e.Message);
        Assert.Equal(scale, model.FeatureScale);

        Assert.True(InputFolding.Fold(model, scaleBits: 10, tolerance: 1e-2));
        AssertClose(before, Predict(model, raw), 1e-2);
        Assert.Equal(w, TestKit.W(model, 0));
        foreach (var v in model.FeatureScale!)
            Assert.Equal(0, BitConverter.SingleToInt32Bits(v) & ((1 << 13) - 1)); // 10 mantissa bits left
        Assert.Equal(10, model.History[^1].Settings["ScaleBits"]);
        TestKit.Throws("ParameterNotApplicable", () => InputFolding.Fold(model, includeScales: true, scaleBits: 10));
        TestKit.Throws("InvalidScaleBits", () => InputFolding.Fold(model, scaleBits: 24));
    }

    [Theory]
    [InlineData(1.0f, 10, 1.0f)]
    [InlineData(1.3f, 1, 1.5f)]
    [InlineData(1.2f, 1, 1.0f)]
    [InlineData(-3.1f, 2, -3.0f)]
    [InlineData(0.1f, 23, 0.1f)]
    public void RoundingKeepsTheExponentAndTheTopMantissaBits(float value, int bits, float expected) =>
        Assert.Equal(expected, InputFolding.Rounded(value, bits));
}
