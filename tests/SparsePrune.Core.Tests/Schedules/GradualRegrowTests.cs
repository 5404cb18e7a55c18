using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// -Schedule Gradual -Regrow: every target update masks each layer to its share of the rising
/// target, then drops and regrows as RigL does, so after each update a layer holds exactly the
/// count its target gives, whatever moved; the run ends at the final targets with the masked
/// weights deleted; it is refused where regrowth cannot apply.
/// </summary>
public class GradualRegrowTests
{
    [Fact]
    public void EveryUpdateLeavesEachLayerAtItsRisingTargetWhileWeightsMove()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 93);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 1 });
        model.EnsureBaseline(data);
        var request = new PruningRequest { Ratio = 0.8, Scope = PruneScope.ERK };
        var layers = Pruner.InScope(model, request);
        var baseline = new long[] { 96, 288, 36 };
        const long end = 30;
        double[] TargetsAt(long step) => Pruner.LayerTargets(model, request with { Ratio = PruningScheduler.GradualTarget(0, 0.8, step, 0, end) });
        RigLSchedule.MaskAtTargets(model, TargetsAt(0), layers);
        using var hook = new RigLHook(model, end, every: 4, regrowFraction: 0.3, TargetsAt, layers);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 6, BatchSize = 16, Seed = 2, Operation = "GradualPrune" }, null, default, hook);

        // Steps 4, 8, ..., 28, then the end's update at step 30 (the final target).
        Assert.Equal(new long[] { 4, 8, 12, 16, 20, 24, 28, 30 }, hook.Updates.Select(u => u.Step));
        Assert.True(hook.Updates.Sum(u => u.Moved.Sum()) > 0, "no weight moved");
        foreach (var (step, _, present) in hook.Updates)
        {
            var targets = TargetsAt(step);
            for (int l = 0; l < 3; l++)
                Assert.Equal(baseline[l] - Ranking.FloorCount(targets[l], baseline[l]), present[l]);
        }
        // Counts only fall as the target rises.
        for (int l = 0; l < 3; l++)
            Assert.True(hook.Updates.Zip(hook.Updates.Skip(1)).All(p => p.Second.Present[l] <= p.First.Present[l]), $"layer {l}'s count rose");
        // Masked weights read 0 between updates.
        for (int l = 0; l < 3; l++)
        {
            var w = TestKit.W(model, l);
            var k = TestKit.Bools(model.State[l].Keep);
            Assert.All(Enumerable.Range(0, w.Length).Where(i => !k[i]), i => Assert.Equal(0f, w[i]));
        }
    }

    [Fact]
    public void TheScheduleEndsAtItsTargetsWithTheMaskedWeightsDeleted()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 94);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 1 });
        var job = new PruningSettings { Ratio = 0.8, Schedule = PruneSchedule.Gradual, Regrow = true, Scope = PruneScope.ERK, Epochs = 4, UpdateEvery = 2, BatchSize = 16, Seed = 3 }.Resolve();
        Assert.True(job.Schedule.Regrows);
        Assert.Contains("Regrow=True RegrowFraction=0.3", job.Schedule.Describe().ToString());
        var result = PruningScheduler.Run(model, job.Request, job.Schedule, data);
        Assert.False(result.Stopped);
        // The targets rise to the final one.
        Assert.Equal(0.8, result.Targets[^1]);
        Assert.True(result.Targets.Zip(result.Targets.Skip(1)).All(p => p.Second >= p.First), "targets fell");
        var targets = ErkAllocation.Erk(new[] { (4, 24), (24, 12), (12, 3) }, 0.8);
        var baseline = new long[] { 96, 288, 36 };
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(Ranking.FloorCount(targets[l], baseline[l]), model.State[l].DeletedCount);
            Assert.Null(model.State[l].Keep is { } k && TestKit.Bools(k).Any(x => !x) ? "masked weights left" : null);
        }
        var note = model.History.Last(h => h.Operation == "GradualPrune").Note!;
        Assert.Contains("masked at each update", note);
        Assert.Matches(@"regrowth update\(s\), [1-9]\d* weights moved", note);
    }

    [Fact]
    public void RegrowIsRefusedWhereItCannotApply()
    {
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.OneShot, Regrow = true }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL, Regrow = true }.Resolve());
        TestKit.Throws("ScheduleNeedsConnections", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, Regrow = true, Structure = PruneStructure.Neuron }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, Regrow = true, Scope = PruneScope.Global }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, Regrow = true, Criterion = PruneCriterion.Taylor }.Resolve());
        // -RegrowFraction needs a regrowing schedule; with -Regrow it is taken.
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, RegrowFraction = 0.2 }.Resolve());
        Assert.Equal(0.2, new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, Regrow = true, RegrowFraction = 0.2 }.Resolve().Schedule.RegrowFraction);
    }
}
