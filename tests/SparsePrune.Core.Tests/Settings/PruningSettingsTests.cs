using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Invoke-Pruning's published defaults are the ones Resolve applies (the help drift test holds
/// help to the same table). Its rules are tested where their behaviour is (ScheduleTests, BudgetTests, ...).
/// </summary>
public class PruningSettingsTests
{
    [Fact]
    public void NothingButARatioGivesEveryPublishedDefault()
    {
        var d = PruningSettings.Defaults;
        var job = new PruningSettings { Ratio = 0.5 }.Resolve();
        Assert.Equal(d["Structure"], job.Request.Structure);
        Assert.Equal(d["Criterion"], job.Request.Criterion);
        Assert.Equal(d["Scope"], job.Request.Scope);
        Assert.Equal(d["Schedule"], job.Schedule.Schedule);
        Assert.Equal(d["Steps"], job.Schedule.Steps);
        Assert.Equal(d["Epochs"], job.Schedule.Epochs);
        Assert.Equal(d["UpdateEvery"], job.Schedule.UpdateEvery);
        Assert.Equal(d["RampFraction"], job.Schedule.RampFraction);
        Assert.Equal(d["RegrowFraction"], job.Schedule.RegrowFraction);
        Assert.Equal(d["Rewind"], job.Schedule.Rewind);
        Assert.Equal(d["RewindEpoch"], job.Schedule.RewindEpoch);
        Assert.Equal(d["FineTuneEpochs"], job.Schedule.FineTuneEpochs);
        Assert.Equal(d["FineTuneLearningRate"], job.Schedule.Training.EffectiveLearningRate);
        Assert.Equal(d["LearningRateSchedule"], job.Schedule.Training.LearningRateSchedule);
        Assert.Equal(d["BatchSize"], job.Schedule.Training.BatchSize);
        Assert.Null(job.Budget);
    }

    [Fact]
    public void ThePatternBudgetAndDistillationDefaultsAreTheOnesApplied()
    {
        var d = PruningSettings.Defaults;
        var pattern = new PruningSettings { Structure = PruneStructure.NM }.Resolve().Request;
        Assert.Equal((d["N"], d["M"]), ((object)pattern.KeepN, (object)pattern.GroupM));
        Assert.Equal(d["Pattern"], $"{pattern.KeepN}:{pattern.GroupM}");
        var budget = new PruningSettings { MaxAccuracyDrop = 0.01 }.Resolve().Budget;
        Assert.Equal(d["Confidence"], budget!.Confidence);
        var teacher = Mlp.Create(new[] { 4, 3, 2 }, seed: 1);
        var distillation = new PruningSettings { Ratio = 0.5, FineTuneEpochs = 1, Teacher = teacher }.Resolve().Schedule.Training.Distillation;
        Assert.Equal((d["Temperature"], d["DistillationWeight"]), ((object)distillation!.Temperature, (object)distillation.Weight));
    }

    [Fact]
    public void RigLDefaultsToErkAsHelpNotes()
    {
        var job = new PruningSettings { Ratio = 0.5, Schedule = PruneSchedule.RigL }.Resolve();
        Assert.Equal(PruneScope.ERK, job.Request.Scope);
    }
}
