using System.Text;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The trimmed metadata (null fields left out): every field a reader uses still round-trips, and
/// what is left out is only what reads back as null anyway.
/// </summary>
public class SpmlpMetadataTests
{
    private static string Json(byte[] file) => SpmlpReferenceReader.Parse(file).MetadataJson;

    [Fact]
    public void EveryFieldAReaderUsesRoundTripsWithNullsLeftOut()
    {
        // Names (Iris has them), classes, baseline, history with and without notes and metrics,
        // removed neurons, kernels and a quantization: every optional field set.
        var model = Mlp.Create(new[] { 4, 12, 8, 3 }, Activation.Tanh, seed: 9, name: "every-field");
        Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 2, Seed = 1 });
        TestKit.Prune(model, 0.25, PruneStructure.Neuron, data: TestKit.Iris);
        TestKit.Prune(model, 0.5, data: TestKit.Iris);
        KernelTuner.Apply(model, null, LayerKernel.Sparse);
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Bits = new[] { 4 } }), null);

        var bytes = SpmlpFormat.ToBytes(model);
        var json = Json(bytes);
        Assert.DoesNotContain(":null", json);
        var copy = SpmlpFormat.FromBytes(bytes);

        Assert.Equal(model.Name, copy.Name);
        Assert.Equal(model.Activation, copy.Activation);
        Assert.Equal(model.Task, copy.Task);
        Assert.Equal(model.Seed, copy.Seed);
        Assert.Equal(model.InputNormalization, copy.InputNormalization);
        Assert.Equal(model.FeatureNames, copy.FeatureNames);
        Assert.Equal(model.ClassNames, copy.ClassNames);
        TestKit.BitEqual(model.FeatureOffset!, copy.FeatureOffset!, "offsets");
        TestKit.BitEqual(model.FeatureScale!, copy.FeatureScale!, "scales");
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(model.Baseline), System.Text.Json.JsonSerializer.Serialize(copy.Baseline));
        Assert.Equal(model.History.Count, copy.History.Count);
        for (int i = 0; i < model.History.Count; i++)
        {
            var (e, a) = (model.History[i], copy.History[i]);
            Assert.Equal((e.Step, e.Operation, e.Time, e.Settings.ToString(), e.WeightsBefore, e.NonZeroBefore, e.WeightsAfter, e.NonZeroAfter, e.MetricName, e.Metric, e.Note),
                (a.Step, a.Operation, a.Time, a.Settings.ToString(), a.WeightsBefore, a.NonZeroBefore, a.WeightsAfter, a.NonZeroAfter, a.MetricName, a.Metric, a.Note));
        }
        Assert.Contains(model.History, r => r.Note is null);
        Assert.Contains(model.History, r => r.Metric is null);
        Assert.Equal(model.Origins.Layers.Select(o => o is null ? "-" : string.Join(",", o)), copy.Origins.Layers.Select(o => o is null ? "-" : string.Join(",", o)));
        Assert.Equal(model.State.Select(l => l.Kernel), copy.State.Select(l => l.Kernel));
        Assert.Equal(model.Layers.Select(l => l.Quantization), copy.Layers.Select(l => l.Quantization));
    }

    [Fact]
    public void AModelWithoutOptionalFieldsWritesNoneOfThemAndReadsThemAsNull()
    {
        var model = Mlp.Create(new[] { 3, 2 }, seed: 5);
        var json = Json(SpmlpFormat.ToBytes(model));
        foreach (var absent in new[] { "FeatureNames", "ClassNames", "DatasetName", "Baseline", "NeuronOrigins", "Kernels", "Quantization" })
            Assert.DoesNotContain($"\"{absent}\"", json);
        var copy = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model));
        Assert.Null(copy.FeatureNames);
        Assert.Null(copy.ClassNames);
        Assert.Null(copy.Baseline);
        Assert.False(copy.Origins.Any);
        Assert.All(copy.State, l => Assert.Equal(LayerKernel.Auto, l.Kernel));
    }
}
