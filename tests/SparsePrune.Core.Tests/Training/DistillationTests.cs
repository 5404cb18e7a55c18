using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Knowledge distillation: the loss is the paper's formula, computed here by hand; the teacher
/// is never changed; a teacher of another width teaches, one of another input or output size,
/// another task or the student itself is refused; with α = 0 training is plain training bit for
/// bit; and every training path of pruning passes the teacher on.
/// </summary>
public class DistillationTests
{
    private static double[] Softmax(double[] z, double t)
    {
        var e = z.Select(v => Math.Exp(v / t)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Fact]
    public void ClassificationLossIsTheFormulaByHand()
    {
        double[][] s = { new[] { 1.0, 2.0, 0.5 }, new[] { 0.1, -1.0, 2.0 } };
        double[][] t = { new[] { 2.0, 1.0, 0.0 }, new[] { 0.0, 0.5, 3.0 } };
        long[] labels = { 1, 0 };
        const double T = 4, alpha = 0.9;
        double hard = 0, soft = 0;
        for (int i = 0; i < 2; i++)
        {
            hard += -Math.Log(Softmax(s[i], 1)[labels[i]]);
            var pt = Softmax(t[i], T);
            var ps = Softmax(s[i], T);
            soft += Enumerable.Range(0, 3).Sum(c => pt[c] * (Math.Log(pt[c]) - Math.Log(ps[c])));
        }
        double expected = (1 - alpha) * hard / 2 + alpha * T * T * soft / 2;

        using var scope = NewDisposeScope();
        var loss = Distillation.Loss(tensor(s.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 }), tensor(labels),
            tensor(t.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 }), TaskKind.Classification, T, alpha);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void RegressionLossWeighsTargetsAndTeacher()
    {
        using var scope = NewDisposeScope();
        var student = tensor(new float[] { 1f, 2f, -1f }, new long[] { 3, 1 });
        var targets = tensor(new float[] { 0f, 2f, 1f });
        var teacher = tensor(new float[] { 2f, 1f, -1f }, new long[] { 3, 1 });
        // MSE to targets: (1 + 0 + 4) / 3; to the teacher: (1 + 1 + 0) / 3.
        double expected = 0.25 * 5.0 / 3 + 0.75 * 2.0 / 3;
        Assert.Equal(expected, Distillation.Loss(student, targets, teacher, TaskKind.Regression, 4, 0.75).item<float>(), 5);
    }

    private static Mlp Teacher(int hidden = 16)
    {
        var teacher = Mlp.Create(new[] { 4, hidden, 3 }, Activation.ReLU, seed: 70, name: "teacher");
        Trainer.Train(teacher, TestKit.Iris, new TrainingOptions { Epochs = 30, BatchSize = 16, Seed = 1 });
        return teacher;
    }

    private static string Bits(Mlp model) => string.Join("|", Enumerable.Range(0, model.LayerCount)
        .Select(l => string.Join(",", TestKit.W(model, l).Select(BitConverter.SingleToInt32Bits)) + ";" + string.Join(",", TestKit.Floats(model.State[l].Bias).Select(BitConverter.SingleToInt32Bits))));

    [Fact]
    public void TheTeacherIsNeverChangedAndTeaches()
    {
        var teacher = Teacher();
        var before = Bits(teacher);
        var taught = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 71, name: "taught");
        var alone = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 71, name: "alone");
        var options = new TrainingOptions { Epochs = 5, BatchSize = 16, Seed = 2 };
        Trainer.Train(taught, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = teacher } });
        Trainer.Train(alone, TestKit.Iris, options);
        Assert.Equal(before, Bits(teacher));
        Assert.NotEqual(Bits(alone), Bits(taught));
        Assert.Contains("Teacher=teacher Temperature=4 DistillationWeight=0.9", taught.History[^1].Settings.ToString());
    }

    [Fact]
    public void WithoutTheTeachersWeightTrainingIsPlainTraining()
    {
        var teacher = Teacher();
        var a = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 72);
        var b = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 72);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = 3 };
        Trainer.Train(a, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = teacher, Weight = 0 } });
        Trainer.Train(b, TestKit.Iris, options);
        Assert.Equal(Bits(b), Bits(a));
    }

    [Fact]
    public void TeachersOfAnotherWidthTeachOthersAreRefused()
    {
        var student = Mlp.Create(new[] { 4, 6, 3 }, Activation.ReLU, seed: 73, name: "student");
        var options = new TrainingOptions { Epochs = 1, BatchSize = 16, Seed = 4 };
        Trainer.Train(student, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = Teacher(hidden: 40) } });
        var before = Bits(student);
        var wrongOutputs = Mlp.Create(new[] { 4, 8, 2 }, Activation.ReLU, seed: 74);
        var wrongInputs = Mlp.Create(new[] { 5, 8, 3 }, Activation.ReLU, seed: 75);
        var regression = Mlp.Create(new[] { 4, 8, 1 }, Activation.ReLU, seed: 76, task: TaskKind.Regression);
        foreach (var bad in new[] { wrongOutputs, wrongInputs, regression })
            TestKit.Throws("TeacherMismatch", () => Trainer.Train(student, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = bad } }));
        TestKit.Throws("TeacherIsStudent", () => Trainer.Train(student, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = student } }));
        TestKit.Throws("InvalidTemperature", () => Trainer.Train(student, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = wrongOutputs, Temperature = 0 } }));
        TestKit.Throws("InvalidDistillationWeight", () => Trainer.Train(student, TestKit.Iris, options with { Distillation = new DistillationOptions { Teacher = wrongOutputs, Weight = 1.5 } }));
        Assert.Equal(before, Bits(student));
    }

    [Theory]
    [InlineData(PruneSchedule.OneShot)]
    [InlineData(PruneSchedule.Iterative)]
    [InlineData(PruneSchedule.Gradual)]
    [InlineData(PruneSchedule.LotteryTicket)]
    public void EveryPruningScheduleTrainsWithTheTeacher(PruneSchedule schedule)
    {
        var teacher = Teacher();
        var before = Bits(teacher);
        var student = teacher.Clone("student");
        var job = new PruningSettings
        {
            Ratio = 0.5, Schedule = schedule, FineTuneEpochs = schedule == PruneSchedule.Gradual ? null : 1, Epochs = schedule == PruneSchedule.Gradual ? 2 : null,
            Steps = schedule is PruneSchedule.Iterative or PruneSchedule.LotteryTicket ? 2 : null, BatchSize = 16, Seed = 5, Teacher = teacher,
        }.Resolve();
        PruningScheduler.Run(student, job.Request, job.Schedule, TestKit.Iris);
        var trainings = student.History.Where(h => h.Operation is "FineTune" or "GradualPrune").ToList();
        Assert.NotEmpty(trainings);
        Assert.All(trainings, h => Assert.Contains("Teacher=teacher", h.Settings.ToString()));
        Assert.Equal(before, Bits(teacher));
    }

    [Fact]
    public void ATeacherWithoutTrainingToDistilIntoIsRefused()
    {
        var teacher = Mlp.Create(new[] { 4, 8, 3 }, Activation.ReLU, seed: 77);
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, Teacher = teacher }.Resolve());
        TestKit.Throws("ParameterNotApplicable", () => new PruningSettings { Ratio = 0.5, FineTuneEpochs = 1, Temperature = 2 }.Resolve());
    }
}
