namespace SparsePrune;

/// <summary>
/// Progress of any long operation, in one shape: what it is doing (<see cref="Status"/>, null
/// while it only trains), how far (<see cref="Done"/> of <see cref="Total"/> steps), and the
/// progress of the training it is running, if any. The cmdlets draw it as one progress bar, with
/// training's as a child bar under the operation's.
/// </summary>
public sealed record WorkProgress(string? Status, int Done, int Total, TrainingProgress? Training = null)
{
    public int PercentComplete => Total <= 0 ? 100 : (int)Math.Clamp(100.0 * Done / Total, 0, 100);

    /// <summary>Training's own progress, as reported by <see cref="Trainer"/>.</summary>
    public static WorkProgress Of(TrainingProgress training) => new(null, 0, 0, training);

    /// <summary>The same training progress, under an operation's status.</summary>
    public WorkProgress Under(string status, int done, int total) => this with { Status = status, Done = done, Total = total };
}
