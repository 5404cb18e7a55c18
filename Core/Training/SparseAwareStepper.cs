namespace SparsePrune;

/// <summary>
/// Adam over a run whose layers train through different products: the fused Adam steps the
/// dense parameters (biases, dense layers' weights), <see cref="LayerProducts"/> the sparse
/// layers' present weights; both count the same steps.
/// </summary>
internal sealed class SparseAwareStepper : IStepper
{
    private readonly IStepper _dense;
    private readonly LayerProducts _products;
    private readonly double _weightDecay;

    public SparseAwareStepper(IStepper dense, LayerProducts products, double weightDecay)
    {
        _dense = dense; _products = products; _weightDecay = weightDecay;
    }

    public void ZeroGrad()
    {
        _dense.ZeroGrad();
        _products.ZeroGrad();
    }

    public void Step(double learningRate)
    {
        _dense.Step(learningRate);
        _products.Step(learningRate, _weightDecay);
    }

    public void Dispose() => _dense.Dispose();
}
