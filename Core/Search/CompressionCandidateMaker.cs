namespace SparsePrune;

/// <summary>
/// Makes the candidates a Compress-Mlp search asks for: one after another in this session
/// (<see cref="SessionCandidateMaker"/>), or over sweep workers (Compress-Mlp -ThrottleLimit,
/// -HostName). The search asks for the one candidate it needs next, with those it may need after
/// it, most likely first; a maker with idle workers starts those too, so that when the search
/// asks for one of them it is made already. The search judges each candidate it asked for, in
/// the order it asked, so that what it decides does not depend on which maker made them.
/// </summary>
internal abstract class CompressionCandidateMaker : IDisposable
{
    /// <summary>Candidates it makes at once (1: one after another).</summary>
    public abstract int Slots { get; }

    /// <summary>What every candidate is made from; called once, before the first candidate.</summary>
    public abstract void Begin(CompressionWork work);

    /// <summary>
    /// The model of <paramref name="needed"/>, made now or earlier; null when <paramref name="cancel"/>
    /// ended the wait first. <paramref name="ahead"/>: the candidates the search may ask for next,
    /// the likeliest first (a maker may start them while this one is made, or ignore them).
    /// </summary>
    public abstract CompressionCandidateMade? Make(CompressionCandidateOrder needed, IReadOnlyList<CompressionCandidateOrder> ahead,
        Action<WorkProgress>? progress, CancellationToken cancel);

    public virtual void Dispose() { }
}
