using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The teacher's side of a distilled training run: its outputs for every training row,
/// computed once in inference mode (the teacher is read, never changed: a batch's targets are
/// rows of this table), and the distillation loss of <see cref="DistillationOptions"/>.
/// </summary>
internal sealed class Distillation : IDisposable
{
    private const int Chunk = 4096;
    private readonly Tensor _outputs;

    public DistillationOptions Options { get; }

    private Distillation(DistillationOptions options, Tensor outputs)
    {
        Options = options;
        _outputs = outputs;
    }

    /// <summary>The teacher's outputs for the training rows of <paramref name="data"/>, in their order.</summary>
    public static Distillation Compute(DistillationOptions options, Dataset data, Device device)
    {
        var teacher = options.Teacher;
        using var reading = teacher.Enter(change: false, "distillation (as the teacher)");
        ModelInputs.CheckCompatible(teacher, data);
        var x = ModelInputs.For(teacher, data, data.TrainX);
        int f = data.Features, n = data.TrainCount;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int start = 0; start < n; start += Chunk)
        {
            int count = Math.Min(Chunk, n - start);
            var xb = NativeCopy.Floats(x.AsSpan((int)((long)start * f), count * f), new long[] { count, f }).to(teacher.TorchDevice);
            parts.Add(teacher.Forward(xb));
        }
        var all = (parts.Count == 1 ? parts[0] : cat(parts, 0)).to(device).contiguous();
        return new Distillation(options, all.DetachFromDisposeScope());
    }

    /// <summary>The teacher's outputs for the rows <paramref name="index"/> of the training split.</summary>
    public Tensor For(Tensor index) => _outputs.index_select(0, index);

    /// <summary>
    /// (1 − α)·hard + α·soft. Classification: hard = CE(s, labels); soft = T²·KL(softmax(t/T) ‖
    /// softmax(s/T)), averaged over the batch. Regression: hard = MSE(s, y); soft = MSE(s, t).
    /// </summary>
    public static Tensor Loss(Tensor student, Tensor labels, Tensor teacher, TaskKind task, double temperature, double weight)
    {
        if (task == TaskKind.Classification)
        {
            var hard = nn.functional.cross_entropy(student, labels);
            var logStudent = nn.functional.log_softmax(student / temperature, 1);
            var logTeacher = nn.functional.log_softmax(teacher / temperature, 1);
            // KL(p_t ‖ p_s) = Σ p_t (log p_t − log p_s), summed over classes, averaged over rows.
            var soft = (logTeacher.exp() * (logTeacher - logStudent)).sum(1).mean() * (temperature * temperature);
            return hard * (1 - weight) + soft * weight;
        }
        var s = student.squeeze(1);
        return nn.functional.mse_loss(s, labels) * (1 - weight) + nn.functional.mse_loss(s, teacher.squeeze(1)) * weight;
    }

    public void Dispose() => _outputs.Dispose();
}
