using System.Globalization;

namespace SparsePrune;

/// <summary>
/// Knowledge distillation (Hinton, Vinyals and Dean 2015): training also matches a teacher's
/// outputs. For a classification the loss is (1 − α)·CE(student, labels) + α·T²·KL(softmax(t/T) ‖
/// softmax(s/T)), the soft targets' gradients scaled back by T² as in the paper; for a
/// regression, (1 − α)·MSE(student, targets) + α·MSE(student, teacher). The teacher runs in
/// inference mode and is never changed; it may have other hidden widths, not another input or
/// output size or task.
/// </summary>
public sealed record DistillationOptions
{
    public const double DefaultTemperature = 4, DefaultWeight = 0.9;

    public required Mlp Teacher { get; init; }
    /// <summary>T: how much the soft targets are softened (classification).</summary>
    public double Temperature { get; init; } = DefaultTemperature;
    /// <summary>α: the weight of the teacher's term; 1 − α is the labels' weight.</summary>
    public double Weight { get; init; } = DefaultWeight;

    /// <summary>
    /// The options of -Teacher, -Temperature and -DistillationWeight as a cmdlet got them (null:
    /// not given): null without a teacher, which the other two then do not apply to.
    /// </summary>
    public static DistillationOptions? From(Mlp? teacher, double? temperature, double? weight)
    {
        if (teacher is null && (temperature is not null || weight is not null))
            throw SparsePruneException.Argument("ParameterNotApplicable", "-Temperature and -DistillationWeight shape distillation from a teacher: give -Teacher too.");
        if (teacher is null) return null;
        var defaults = new DistillationOptions { Teacher = teacher };
        return defaults with { Temperature = temperature ?? defaults.Temperature, Weight = weight ?? defaults.Weight };
    }

    /// <summary>Checks the options and that the teacher fits <paramref name="student"/>.</summary>
    public void Validate(Mlp student)
    {
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw SparsePruneException.Argument("InvalidTemperature", $"-Temperature must be a positive number (4 is usual); got {Temperature.ToString(CultureInfo.InvariantCulture)}.");
        if (!(Weight >= 0 && Weight <= 1))
            throw SparsePruneException.Argument("InvalidDistillationWeight", $"-DistillationWeight must be from 0 (labels only) to 1 (teacher only); got {Weight.ToString(CultureInfo.InvariantCulture)}.");
        if (ReferenceEquals(Teacher, student))
            throw SparsePruneException.Argument("TeacherIsStudent", $"Model '{student.Name}' cannot teach itself: give a copy made before it changed (Copy-Mlp) as -Teacher.");
        if (Teacher.Task != student.Task)
            throw SparsePruneException.Argument("TeacherMismatch", $"Teacher '{Teacher.Name}' is a {Teacher.Task} model and student '{student.Name}' a {student.Task} one: distillation needs the same task.");
        if (Teacher.InputFeatures != student.InputFeatures || Teacher.Outputs != student.Outputs)
            throw SparsePruneException.Argument("TeacherMismatch",
                $"Teacher '{Teacher.Name}' takes {Teacher.InputFeatures} inputs and gives {Teacher.Outputs} outputs; student '{student.Name}' takes {student.InputFeatures} and gives {student.Outputs}. Its hidden widths may differ, its input and output sizes may not.");
    }

    public HistorySettings Describe() => new HistorySettings().Add(nameof(Teacher), Teacher.Name).Add(nameof(Temperature), Temperature).Add("DistillationWeight", Weight);
}
