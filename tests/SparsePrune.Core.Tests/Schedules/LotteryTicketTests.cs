using Xunit;
using static SparsePrune.Tests.PruningKit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Lottery tickets: the schedule rewinds survivors bit for bit, to initialization and to an epoch
/// of the first training, at their original indices after neuron pruning.
/// </summary>
public class LotteryTicketTests
{
    // ---- 3. lottery tickets ---------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LotteryTicketRewindsConnectionSurvivorsToInitializationBitForBit(int steps)
    {
        const int seed = 73;
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, Quick(5) with { Epochs = 2, LearningRate = 0.01 });
        var fresh = Mlp.Create(RegWidths, seed: seed);
        Assert.NotEqual(TestKit.Bits(TestKit.W(fresh, 0)), TestKit.Bits(TestKit.W(model, 0))); // training moved the weights

        int historyBefore = model.History.Count;
        var result = PruningScheduler.Run(model, new PruningRequest { Ratio = 0.6 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = steps, FineTuneEpochs = 0 }, data);
        Assert.Equal(steps, result.Targets.Count);
        Assert.Equal(steps, model.History.Skip(historyBefore).Count(h => h.Operation == "Rewind"));

        var n = DenseCounts(RegWidths);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var f = TestKit.W(fresh, l);
            var d = DeletedFlags(model, l);
            Assert.Equal(Floor(0.6, n[l]), d.Count(x => x));
            for (int k = 0; k < w.Length; k++)
            {
                if (d[k]) Assert.True(w[k] == 0f, $"layer {l} deleted weight {k} reads {w[k]}");
                else Assert.True(BitConverter.SingleToInt32Bits(f[k]) == BitConverter.SingleToInt32Bits(w[k]),
                    $"layer {l} survivor {k} is {w[k]:R}, its initial value is {f[k]:R}");
            }
            TestKit.BitEqual(fresh.GetBias(l), model.GetBias(l), $"bias {l}");
        }
    }

    /// <summary>Indices of the <paramref name="count"/> rows with the lowest L1 norm (ties by index), in double.</summary>
    private static HashSet<int> LowestRows(float[,] w, int count) =>
        Enumerable.Range(0, w.GetLength(0))
            .OrderBy(r => Enumerable.Range(0, w.GetLength(1)).Sum(c => Math.Abs((double)w[r, c]))).ThenBy(r => r)
            .Take(count).ToHashSet();

    private static void AssertSurvivorsAtOrigins(Mlp model, Mlp fresh)
    {
        for (int l = 0; l < model.LayerCount; l++)
        {
            var rows = model.OriginOf(l);
            var cols = l == 0 ? Enumerable.Range(0, fresh.Widths[0]).ToArray() : model.OriginOf(l - 1);
            Assert.Equal(model.State[l].OutFeatures, rows.Length);
            Assert.Equal(model.State[l].InFeatures, cols.Length);
            for (int i = 1; i < rows.Length; i++) Assert.True(rows[i] > rows[i - 1], $"layer {l}: origins not increasing");
            var w = model.GetWeight(l);
            var f = fresh.GetWeight(l);
            var b = model.GetBias(l);
            var fb = fresh.GetBias(l);
            for (int i = 0; i < rows.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(fb[rows[i]]) == BitConverter.SingleToInt32Bits(b[i]), $"layer {l} bias {i} (origin {rows[i]})");
                for (int j = 0; j < cols.Length; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(f[rows[i], cols[j]]) == BitConverter.SingleToInt32Bits(w[i, j]),
                        $"layer {l} weight [{i},{j}] (origin [{rows[i]},{cols[j]}]) is {w[i, j]:R}, initial {f[rows[i], cols[j]]:R}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LotteryTicketAfterNeuronPruningRewindsSurvivorsAtTheirOriginalIndices(int steps)
    {
        const int seed = 74;
        var data = TestKit.Synthetic;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, Quick(6) with { Epochs = 2, LearningRate = 0.01 });
        var trained = Enumerable.Range(0, model.LayerCount).Select(model.GetWeight).ToArray();
        var fresh = Mlp.Create(RegWidths, seed: seed);

        PruningScheduler.Run(model, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = steps }, data);
        Assert.Equal(new[] { 10, 8, 6, 1 }, model.Widths);
        if (steps == 1)
        {
            // One round ranks the trained rows: the survivors are the rows with the largest L1 norms.
            for (int l = 0; l < 2; l++)
            {
                var removed = LowestRows(trained[l], RegWidths[l + 1] / 2);
                Assert.Equal(Enumerable.Range(0, RegWidths[l + 1]).Where(r => !removed.Contains(r)), model.OriginOf(l));
            }
        }
        AssertSurvivorsAtOrigins(model, fresh);
    }

    /// <summary>
    /// A model whose neurons were removed before the lottery ticket (in this session, or read
    /// back from a file that keeps the origins): rewinding to initialization maps the initial
    /// values onto the present neurons by their original indices.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LotteryTicketOnANeuronPrunedModelRewindsAtOriginalIndices(bool readBack)
    {
        const int seed = 75;
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, TestKit.Synthetic, Quick(7) with { Epochs = 1, LearningRate = 0.01 });
        TestKit.Prune(model, 0.5, PruneStructure.Neuron);
        var loaded = readBack ? SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(model)) : model.Clone();
        Assert.Equal(new[] { 10, 8, 6, 1 }, loaded.Widths);
        PruningScheduler.Run(loaded, new PruningRequest { Ratio = 0.5, Structure = PruneStructure.Neuron },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 1 }, null);
        Assert.Equal(new[] { 10, 8, 6, 1 }, loaded.Widths);
        for (int l = 0; l < 2; l++) Assert.Equal(model.OriginOf(l), loaded.OriginOf(l));
        AssertSurvivorsAtOrigins(loaded, Mlp.Create(RegWidths, seed: seed));
    }

    [Fact]
    public void LotteryTicketRewindEpochOneMatchesAFreshModelTrainedOneEpoch()
    {
        const int seed = 76;
        var data = TestKit.Synthetic;
        var first = new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.01 }; // seed chosen by the model
        var model = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(model, data, first);
        Assert.NotNull(model.Attached<TrainingReplay>());
        int trainingSeed = model.Attached<TrainingReplay>()!.Options.Seed!.Value;

        var expected = Mlp.Create(RegWidths, seed: seed);
        Trainer.Train(expected, data, first with { Epochs = 1, Seed = trainingSeed });
        var init = Mlp.Create(RegWidths, seed: seed);

        PruningScheduler.Run(model, new PruningRequest { Ratio = 0.5 },
            new ScheduleOptions { Schedule = PruneSchedule.LotteryTicket, Steps = 2, RewindEpoch = 1 }, data);
        Assert.Equal("To=Epoch1", model.History[^1].Settings.ToString());

        bool differsFromInit = false;
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var e = TestKit.W(expected, l);
            var i0 = TestKit.W(init, l);
            var d = DeletedFlags(model, l);
            Assert.Equal(Floor(0.5, w.Length), d.Count(x => x));
            for (int k = 0; k < w.Length; k++)
            {
                if (d[k]) { Assert.True(w[k] == 0f); continue; }
                Assert.True(BitConverter.SingleToInt32Bits(e[k]) == BitConverter.SingleToInt32Bits(w[k]),
                    $"layer {l} survivor {k} is {w[k]:R}; after epoch 1 it was {e[k]:R}");
                differsFromInit |= w[k] != i0[k];
            }
            TestKit.BitEqual(expected.GetBias(l), model.GetBias(l), $"bias {l}");
        }
        Assert.True(differsFromInit, "the epoch-1 weights equal the initial ones: the test would not tell the rewind points apart");
    }
}
