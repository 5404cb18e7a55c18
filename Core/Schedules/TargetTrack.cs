namespace SparsePrune;

/// <summary>
/// The request's targets from where the model is now to where the request ends: the
/// overall ratio, and each layer's when the request names a target per layer.
/// </summary>
internal sealed class TargetTrack
{
    private readonly PruningRequest _final;
    private readonly double _start;
    private readonly double[]? _layerStarts;

    public TargetTrack(Mlp model, PruningRequest final)
    {
        _final = final;
        _start = Math.Min(Pruner.CurrentRatio(model, final), final.Ratio);
        _layerStarts = final.LayerRatios?.Select((r, i) => Math.Min(Pruner.CurrentLayerRatio(model, final, i), r)).ToArray();
    }

    public double Start => _start;

    /// <summary>The request at one point of a schedule, given as a function of (start, final) target.</summary>
    public PruningRequest At(Func<double, double, double> target) => _final with
    {
        Ratio = target(_start, _final.Ratio),
        LayerRatios = _final.LayerRatios?.Select((r, i) => target(_layerStarts![i], r)).ToArray(),
    };
}
