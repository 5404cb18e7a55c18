using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Learning-rate rewinding for Iterative pruning: every round retrains with the model's first
/// training's learning rate and schedule, restarted from its start (each round equals a fresh
/// training run with those options, bit for bit), and it is refused where it cannot apply.
/// </summary>
public class RewindTests
{
    private static readonly TrainingOptions First = new() { Epochs = 4, BatchSize = 16, LearningRate = 0.01, LearningRateSchedule = LearningRateSchedule.Cosine, Seed = 1 };

    private static Mlp Trained(string name)
    {
        var model = Mlp.Create(new[] { 4, 12, 3 }, Activation.ReLU, seed: 80, name: name);
        Trainer.Train(model, TestKit.Iris, First);
        return model;
    }

    private static string Bits(Mlp model) => string.Join("|", Enumerable.Range(0, model.LayerCount)
        .Select(l => string.Join(",", TestKit.W(model, l).Select(BitConverter.SingleToInt32Bits)) + ";" + string.Join(",", TestKit.Floats(model.State[l].Bias).Select(BitConverter.SingleToInt32Bits))));

    [Fact]
    public void EveryRoundRetrainsWithTheFirstSchedulesFromItsStart()
    {
        var rewound = Trained("rewound");
        var job = new PruningSettings { Ratio = 0.75, Schedule = PruneSchedule.Iterative, Steps = 2, Rewind = RewindMode.LearningRate, BatchSize = 16, Seed = 5 }.Resolve();
        var result = PruningScheduler.Run(rewound, job.Request, job.Schedule, TestKit.Iris);
        Assert.False(result.Stopped);

        // By hand: prune to each round's target, then a fresh run of the first training's options.
        var byHand = Trained("by hand");
        var retrain = First with { Seed = 5, Operation = "FineTune" };
        foreach (var target in result.Targets)
        {
            TestKit.Prune(byHand, target, data: TestKit.Iris).Dispose();
            Trainer.Train(byHand, TestKit.Iris, retrain);
        }
        Assert.Equal(Bits(byHand), Bits(rewound));

        var rounds = rewound.History.Where(h => h.Operation == "FineTune").ToList();
        Assert.Equal(2, rounds.Count);
        Assert.All(rounds, h => Assert.Contains("Epochs=4 BatchSize=16 Optimizer=Adam LearningRate=0.01", h.Settings.ToString()));
        Assert.All(rounds, h => Assert.Contains("LearningRateSchedule=Cosine", h.Settings.ToString()));
    }

    [Fact]
    public void WithoutRewindingRoundsFineTuneAtTheFineTuningRate()
    {
        var model = Trained("fine-tuned");
        var job = new PruningSettings { Ratio = 0.75, Schedule = PruneSchedule.Iterative, Steps = 2, FineTuneEpochs = 1, BatchSize = 16, Seed = 5 }.Resolve();
        PruningScheduler.Run(model, job.Request, job.Schedule, TestKit.Iris);
        Assert.All(model.History.Where(h => h.Operation == "FineTune"), h => Assert.Contains("Epochs=1 BatchSize=16 Optimizer=Adam LearningRate=0.001", h.Settings.ToString()));
    }

    [Fact]
    public void TheCosineScheduleStartsAtTheFullRateAndEndsNearZero()
    {
        var options = First;
        Assert.Equal(0.01, options.LearningRateAt(0, 100), 12);
        Assert.Equal(0.005, options.LearningRateAt(50, 100), 12);
        Assert.True(options.LearningRateAt(99, 100) < 1e-5);
    }

    [Fact]
    public void RewindingIsRefusedWhereItCannotApply()
    {
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, Rewind = RewindMode.LearningRate }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.LotteryTicket, Rewind = RewindMode.LearningRate }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Iterative, Rewind = RewindMode.LearningRate, FineTuneEpochs = 1, FineTuneLearningRate = 0.01 }.Resolve());

        // A model read back from bytes has no first training in this session.
        var loaded = SpmlpFormat.FromBytes(SpmlpFormat.ToBytes(Trained("loaded")));
        var before = Bits(loaded);
        var job = new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Iterative, Rewind = RewindMode.LearningRate }.Resolve();
        TestKit.Throws("LearningRateScheduleUnknown", () => PruningScheduler.Run(loaded, job.Request, job.Schedule, TestKit.Iris));
        Assert.Equal(before, Bits(loaded));
    }
}
