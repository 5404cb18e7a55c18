using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// RigL: an update drops each layer's smallest present weights and regrows exactly where the
/// given dense gradient is largest among its masked (not deleted) weights; every layer's count of
/// present weights stays exactly the same through a real training run; regrown weights start at 0
/// with zero Adam moments; the schedule ends at its target with the masked weights deleted.
/// </summary>
public class RigLTests
{
    [Fact]
    public void AnUpdateDropsTheSmallestAndRegrowsWhereTheGradientIsLargest()
    {
        var model = Mlp.Create(new[] { 4, 3, 2 }, Activation.ReLU, seed: 90);
        var w = new float[] { 0.9f, -0.1f, 0.5f, 0.05f, -0.7f, 0.3f, 0.2f, -0.8f, 0.6f, -0.4f, 0.15f, 0.25f };
        TestKit.SetWeight(model, 0, w);
        // Present: the six largest by magnitude (0, 4, 7, 8, 2, 9); masked: the rest.
        bool[] keep = w.Select(v => Math.Abs(v) >= 0.4f).ToArray();
        var layer = model.State[0];
        using (var scope = NewDisposeScope())
        {
            var mask = tensor(keep).reshape(3, 4);
            layer.SetWeight(layer.Weight.masked_fill(mask.logical_not(), 0f).DetachFromDisposeScope());
            layer.SetMask(mask.DetachFromDisposeScope(), zeros_like(layer.Weight).DetachFromDisposeScope());
            // Position 11 would win the regrowth, but it is deleted: it must stay out.
            var deleted = zeros(12, dtype: ScalarType.Bool);
            deleted[11] = true;
            layer.SetDeleted(deleted.reshape(3, 4).DetachFromDisposeScope());
        }
        var weightNow = TestKit.W(model, 0);
        var gradient = new float[] { 5f, 0.3f, 9f, 0.7f, 8f, 0.2f, 0.9f, 7f, 6f, 4f, 0.6f, 10f };
        using var hook = new RigLHook(model, end: 100, every: 1, regrowFraction: 0.5);
        using var gradients = tensor(gradient).reshape(3, 4);
        hook.Move(0, new[] { gradients, zeros(2, 3) });

        // By hand: 0.5 of 6 present = 3 move. Drop the 3 smallest |w| present: 9 (0.4), 2 (0.5), 8 (0.6).
        // Regrow the 3 largest gradients among the masked, not deleted: 3 (0.7), 6 (0.9), 10 (0.6).
        var present = Enumerable.Range(0, 12).Where(i => keep[i]).ToList();
        var dropped = present.OrderBy(i => Math.Abs(weightNow[i])).ThenBy(i => i).Take(3).ToHashSet();
        var regrown = Enumerable.Range(0, 12).Where(i => !keep[i] && i != 11).OrderByDescending(i => gradient[i]).ThenBy(i => i).Take(3).ToHashSet();
        Assert.Equal(new[] { 2, 8, 9 }, dropped.Order());
        Assert.Equal(new[] { 3, 6, 10 }, regrown.Order());
        var after = TestKit.Bools(model.State[0].Keep);
        var weightAfter = TestKit.W(model, 0);
        for (int i = 0; i < 12; i++)
        {
            bool expected = (keep[i] && !dropped.Contains(i)) || regrown.Contains(i);
            Assert.Equal(expected, after[i]);
            float value = expected && !regrown.Contains(i) ? weightNow[i] : 0f;
            Assert.Equal(value, weightAfter[i]);
        }
        Assert.Equal(6, after.Count(k => k));
        Assert.Equal(new long[] { 3, 0 }, hook.Updates[0].Moved);
    }

    [Fact]
    public void EveryLayerKeepsItsCountThroughEveryUpdateOfARun()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 91);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 1 });
        model.EnsureBaseline(data);
        var request = new PruningRequest { Ratio = 0.8, Scope = PruneScope.ERK };
        RigLSchedule.MaskAtTargets(model, Pruner.LayerTargets(model, request), Pruner.InScope(model, request));
        var counts = model.State.Select(l => TestKit.CountTrue(TestKit.Bools(l.Keep))).Select(c => (long)c).ToArray();
        using var hook = new RigLHook(model, end: 30, every: 3, regrowFraction: 0.3);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 6, BatchSize = 16, Seed = 2, Operation = "RigLPrune" }, null, default, hook);
        Assert.Equal(9, hook.Updates.Count); // steps 3, 6, ..., 27
        Assert.True(hook.Updates.Sum(u => u.Moved.Sum()) > 0, "no weight moved");
        Assert.All(hook.Updates, u => Assert.Equal(counts, u.Present));
        Assert.Equal(counts, model.State.Select(l => (long)TestKit.CountTrue(TestKit.Bools(l.Keep))).ToArray());
        // Masked weights stay zero between updates.
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = TestKit.W(model, l);
            var k = TestKit.Bools(model.State[l].Keep);
            Assert.All(Enumerable.Range(0, w.Length).Where(i => !k[i]), i => Assert.Equal(0f, w[i]));
        }
    }

    [Fact]
    public void RegrownWeightsStartWithZeroAdamMoments()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(tensor(new float[] { 1f, 0f, -1f, 0f }), requires_grad: true);
        var keep = tensor(new float[] { 1f, 0f, 1f, 0f });
        using var adam = new FusedAdam(new[] { (Tensor)p }, 0, 1, _ => keep);
        p.grad = tensor(new float[] { 0.5f, 2f, -1f, 3f });
        adam.Step(0.01);
        var (m, v) = adam.Moments(0);
        // A masked weight's gradient never reaches its moments.
        Assert.Equal(new[] { 0.05f, 0f, -0.1f, 0f }, m.data<float>().ToArray().Select(x => MathF.Round(x, 6)));
        Assert.Equal(0f, v.data<float>()[1]);
        Assert.Equal(0f, v.data<float>()[3]);
        // Regrow position 1: its first step starts from zero moments.
        keep.copy_(tensor(new float[] { 1f, 1f, 1f, 0f }));
        p.grad = tensor(new float[] { 0f, 4f, 0f, 1f });
        adam.Step(0.01);
        Assert.Equal(0.1f * 4f, adam.Moments(0).M.data<float>()[1], 6);
        Assert.Equal(0.001f * 16f, adam.Moments(0).V.data<float>()[1], 6);
    }

    [Fact]
    public void TheScheduleEndsAtItsTargetWithTheMaskedWeightsDeleted()
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 24, 12, 3 }, Activation.ReLU, seed: 92);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 1 });
        var job = new PruningSettings { Ratio = 0.8, Schedule = PruneSchedule.RigL, Epochs = 4, UpdateEvery = 2, BatchSize = 16, Seed = 3 }.Resolve();
        Assert.Equal(PruneScope.ERK, job.Request.Scope);
        var result = PruningScheduler.Run(model, job.Request, job.Schedule, data);
        Assert.False(result.Stopped);
        var targets = ErkAllocation.Erk(new[] { (4, 24), (24, 12), (12, 3) }, 0.8);
        var baseline = new long[] { 96, 288, 36 };
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(Ranking.FloorCount(targets[l], baseline[l]), model.State[l].DeletedCount);
            Assert.Null(model.State[l].Keep is { } k && TestKit.Bools(k).Any(x => !x) ? "masked weights left" : null);
        }
        Assert.Contains(model.History, h => h.Operation == "RigLPrune" && h.Note!.Contains("regrowth update(s)"));
    }

    [Fact]
    public void RigLIsRefusedWhereItCannotApply()
    {
        TestKit.Throws("ScheduleNeedsConnections", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL, Structure = PruneStructure.Neuron }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL, Scope = PruneScope.Global }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL, Criterion = PruneCriterion.Taylor }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Schedule = PruneSchedule.RigL, MaxAccuracyDrop = 0.01 }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.Gradual, RegrowFraction = 0.3 }.Resolve());
        TestKit.Throws("InvalidRegrowFraction", () => new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL, RegrowFraction = 0 }.Resolve());
    }
}
