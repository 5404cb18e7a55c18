namespace SparsePrune;

/// <summary>The serial maker: each candidate made in this session when the search asks for it; nothing ahead.</summary>
internal sealed class SessionCandidateMaker : CompressionCandidateMaker
{
    private CompressionWork? _work;

    public override int Slots => 1;

    public override void Begin(CompressionWork work) => _work = work;

    public override CompressionCandidateMade? Make(CompressionCandidateOrder needed, IReadOnlyList<CompressionCandidateOrder> ahead,
        Action<WorkProgress>? progress, CancellationToken cancel)
    {
        var w = _work ?? throw new InvalidOperationException("Begin was not called");
        var (model, completed) = CompressionCandidateFactory.Make(w.Origin, needed.Basis, w.Validation, w.Recipe, w.Training, needed.Spec, progress, cancel);
        return new CompressionCandidateMade(model, completed);
    }
}
