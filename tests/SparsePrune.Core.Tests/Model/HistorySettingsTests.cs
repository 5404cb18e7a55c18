using System.Text.Json;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The history keeps each operation's settings typed; files keep the settings line the readers
/// of earlier releases read, and files from before typed settings have their line parsed once.
/// </summary>
public class HistorySettingsTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "data", name);

    [Fact]
    public void AnOperationRecordsItsSettingsTyped()
    {
        var model = Mlp.Create(new[] { 4, 8, 3 }, seed: 1);
        TestKit.Prune(model, 0.5, scope: PruneScope.Global);
        var s = model.History[^1].Settings;
        Assert.Equal(new[] { "Structure", "Ratio", "Criterion", "Scope", "MaxLayerSparsity" }, s.Keys);
        Assert.Equal(PruneStructure.Connection, s["Structure"]);
        Assert.Equal(0.5, Assert.IsType<double>(s["Ratio"]));
        Assert.Equal(PruneScope.Global, s["scope"]);
        Assert.Equal("Structure=Connection Ratio=0.5 Criterion=L1 Scope=Global MaxLayerSparsity=" + s["MaxLayerSparsity"], s.ToString());
    }

    [Fact]
    public void TrainingRecordsNumbersAsNumbersAndTheDataSetAsText()
    {
        var model = Mlp.Create(new[] { 4, 5, 3 }, seed: 2);
        Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1, BatchSize = 16, Seed = 3 });
        var s = model.History[^1].Settings;
        Assert.Equal(1, Assert.IsType<int>(s["Epochs"]));
        Assert.Equal(3, s["Seed"]);
        Assert.Equal(0.001, Assert.IsType<double>(s["LearningRate"]));
        Assert.Equal(TestKit.Iris.Name, s["Dataset"]);
        Assert.False(s.ContainsKey("LearningRateSchedule"));
    }

    [Fact]
    public void AnOldSettingsLineIsParsedIntoTypedValues()
    {
        var s = HistorySettings.Parse("Epochs=5 LearningRate=0.001 Dequantize=True Bits=3,2 Ratios=0.5,0.25 Dataset=Digits (validation split) Scope=Global Seed=3000000000 Pattern=1:4");
        Assert.Equal(5, s["Epochs"]);
        Assert.Equal(0.001, s["LearningRate"]);
        Assert.Equal(true, s["Dequantize"]);
        Assert.Equal(new[] { 3, 2 }, s["Bits"]);
        Assert.Equal(new[] { 0.5, 0.25 }, s["Ratios"]);
        Assert.Equal("Digits (validation split)", s["Dataset"]);
        Assert.Equal("Global", s["Scope"]);
        Assert.Equal(3000000000L, s["Seed"]);
        Assert.Equal("1:4", s["Pattern"]);
        Assert.Equal("Epochs=5 LearningRate=0.001 Dequantize=True Bits=3,2 Ratios=0.5,0.25 Dataset=Digits (validation split) Scope=Global Seed=3000000000 Pattern=1:4", s.ToString());
    }

    [Fact]
    public void TextThatOnlyLooksLikeANumberStaysText()
    {
        // "1e3" and "007" do not write back as themselves: kept as the text they were.
        var s = HistorySettings.Parse("A=1e3 B=007 C=true");
        Assert.Equal("1e3", s["A"]);
        Assert.Equal("007", s["B"]);
        Assert.Equal("true", s["C"]);
    }

    [Fact]
    public void AFileFromBeforeTypedSettingsLoadsWithItsLineParsed()
    {
        var model = ModelFile.Load(DataFile("model-v1.spmlp"));
        var train = model.History[0];
        Assert.Equal("Epochs=3 BatchSize=16 Optimizer=Adam LearningRate=0.001 Momentum=0 WeightDecay=0 L1=0 Seed=1 Threads=2 Dataset=Iris", train.Settings.ToString());
        Assert.Equal(3, train.Settings["Epochs"]);
        Assert.Equal(0.001, train.Settings["LearningRate"]);
        Assert.Equal("Magnitude", model.History[1].Settings["Method"]);
        Assert.Equal(0.2, model.History[2].Settings["Ratio"]);
        Assert.All(model.History, h => Assert.NotEmpty(h.Settings));
    }

    [Fact]
    public void ASavedModelKeepsItsSettingsTypedAndTheLineForOlderReaders()
    {
        var model = Mlp.Create(new[] { 4, 6, 3 }, seed: 4);
        Trainer.Train(model, TestKit.Iris, new TrainingOptions { Epochs = 1, BatchSize = 16, Seed = 3 });
        TestKit.Sparsify(model, 0.5, layers: new[] { 1, 0 });
        var path = Path.Combine(Path.GetTempPath(), $"settings-{Guid.NewGuid():N}.spmlp");
        try
        {
            ModelFile.Save(model, path, ModelFileFormat.Spmlp, force: true);
            var back = ModelFile.Load(path);
            for (int i = 0; i < model.History.Count; i++)
                Assert.Equal(model.History[i].Settings.ToString(), back.History[i].Settings.ToString());
            var s = back.History[^1].Settings;
            Assert.Equal(0.5, Assert.IsType<double>(s["Sparsity"]));
            Assert.Equal(new[] { 1, 0 }, s["Layer"]);
            Assert.Equal("L1", s["Method"]); // an enum comes back as its name
            Assert.Equal(1, back.History[0].Settings["Epochs"]);
        }
        finally { File.Delete(path); }

        // The metadata as a reader of an earlier release sees it: "Parameters" is the line, as it
        // always was, and nothing else of the settings.
        var json = JsonSerializer.Serialize(SpmlpMetadata.From(model));
        var old = JsonSerializer.Deserialize<OldMetadata>(json)!;
        Assert.Equal(model.History.Select(h => h.Settings.ToString()), old.History.Select(h => h.Parameters));
        using var doc = JsonDocument.Parse(json);
        var last = doc.RootElement.GetProperty("History")[model.History.Count - 1];
        Assert.Equal(new[] { "Step", "Operation", "Time", "Parameters", "WeightsBefore", "NonZeroBefore", "WeightsAfter", "NonZeroAfter", "MetricName", "Metric", "Note" },
            last.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void SettingsAreReadOnlyToScripts()
    {
        var model = Mlp.Create(new[] { 4, 6, 3 }, seed: 4);
        TestKit.Sparsify(model, 0.5);
        var settings = (System.Collections.IDictionary)model.History[^1].Settings;
        Assert.Throws<NotSupportedException>(() => settings["Sparsity"] = 0.9);
        Assert.Equal(0.5, settings["sparsity"]);
    }

    private sealed class OldMetadata { public List<OldRecord> History { get; set; } = new(); }
    private sealed class OldRecord { public string Parameters { get; set; } = ""; }
}
