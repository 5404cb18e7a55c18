using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// One layer trained through the sparse kernels: its present weights as one value per present
/// connection (<see cref="SparseLinear"/>), their gradient and their Adam moments
/// (<see cref="SparseAdam"/>), all of the density's size. The trainer's dense copy of the
/// weights (<see cref="W"/>) is written from the values only where someone reads it: on steps a
/// hook reads weights and gradients, before a hook's update and at the end of the run.
/// </summary>
internal sealed unsafe class SparseTrainedLayer
{
    private readonly int _threads;
    private float[] _xt = Array.Empty<float>(), _dyt = Array.Empty<float>();
    private int _batch;
    private bool _inputGradient;
    private Tensor? _input;

    /// <param name="keep">The layer's keep mask now (non-zero: present); null: every connection is.</param>
    public SparseTrainedLayer(Tensor? keep, Parameter weight, int threads)
    {
        W = weight;
        _threads = Math.Max(1, threads);
        Kernel = Build(keep, weight);
        Adam = new SparseAdam(Kernel.NonZeros);
        Gradient = new float[Kernel.NonZeros];
    }

    /// <summary>The dense weights hooks read (written from the values on the steps they read them); see <see cref="LayerProducts.ShareLayerWeights"/>.</summary>
    public Parameter W { get; internal set; }
    public SparseLinear Kernel { get; private set; }
    public SparseAdam Adam { get; }
    /// <summary>The weight gradient of the last backward pass at the present connections.</summary>
    public float[] Gradient { get; private set; }
    /// <summary>Whether the backward pass also writes the dense weight gradient into W.grad (a hook's step).</summary>
    public bool DenseGradient { get; set; }

    /// <summary>Whether the kernels and the update use 8-wide vectors (tests force the scalar path).</summary>
    public bool Vectorized
    {
        get => Kernel.Vectorized;
        set { Kernel.Vectorized = value; Adam.Vectorized = value; }
    }

    private static SparseLinear Build(Tensor? keep, Tensor weight)
    {
        using var scope = NewDisposeScope();
        return SparseLinear.From(keep ?? ones_like(weight), weight);
    }

    /// <summary>y = x Wᵀ + b through the kernels, as a node of LibTorch's autograd graph.</summary>
    public Tensor Forward(Tensor x, Tensor bias) => SparseLinearFunction.apply(x, bias, this);

    /// <summary>The forward product (called by <see cref="SparseLinearFunction"/>): keeps xᵀ for the weight gradient.</summary>
    internal Tensor ForwardProduct(Tensor x, Tensor bias)
    {
        int batch = (int)x.shape[0];
        if (_xt.Length < (long)Kernel.Cols * batch) _xt = new float[(long)Kernel.Cols * batch];
        _batch = batch;
        _inputGradient = x.requires_grad;
        _input = DenseGradient ? x : null;
        return Kernel.Forward(x, bias, _xt, _threads);
    }

    /// <summary>The backward products: the input and bias gradients (to autograd), the weight gradient (kept here).</summary>
    internal (Tensor? Input, Tensor Bias) BackwardProduct(Tensor dy)
    {
        if (_dyt.Length < (long)Kernel.Rows * _batch) _dyt = new float[(long)Kernel.Rows * _batch];
        var (dx, db) = Kernel.Backward(dy, _xt, _dyt, _inputGradient, Gradient, _threads);
        if (DenseGradient && _input is not null)
        {
            // A hook's step: the gradient of every weight, masked ones too (RigL regrows by it).
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            W.grad = dy.t().mm(_input);
        }
        _input = null;
        return (dx, db);
    }

    /// <summary>Writes the trained values into <see cref="W"/> at their places (the masked places hold 0 already).</summary>
    public void SyncWeights()
    {
        nint address = RawTensor.Address(W, TorchSharp.torch.ScalarType.Float32, (long)Kernel.Rows * Kernel.Cols);
        if (address == 0) throw new InvalidOperationException("The sparse training path needs the weights as a contiguous float32 CPU tensor.");
        Kernel.Scatter((float*)address);
        GC.KeepAlive(W);
    }

    /// <summary>Writes the trained values into <paramref name="weight"/> (the layer's own tensor, rows × cols) at their places.</summary>
    public void ScatterInto(Tensor weight)
    {
        nint address = RawTensor.Address(weight, TorchSharp.torch.ScalarType.Float32, (long)Kernel.Rows * Kernel.Cols);
        if (address == 0) throw new InvalidOperationException("The sparse training path needs the layer's weights as a contiguous float32 CPU tensor.");
        Kernel.Scatter((float*)address);
        GC.KeepAlive(weight);
    }

    /// <summary>
    /// After a hook changed the mask (and <see cref="W"/> was reloaded from the layer): a new
    /// structure from <paramref name="keep"/> and W's values; the moments of connections present
    /// before and after are kept, new ones start at 0. Nothing of the old structure survives.
    /// </summary>
    public void Rebuild(Tensor? keep)
    {
        bool vectorized = Vectorized;
        var before = Kernel.Positions();
        Kernel = Build(keep, W);
        Adam.Remap(before, Kernel.Positions());
        Gradient = new float[Kernel.NonZeros];
        Vectorized = vectorized;
    }

    public void ZeroGrad() => Array.Clear(Gradient);

    public void Step(long t, double learningRate, double weightDecay) =>
        Adam.Step(Kernel.Values, Gradient, t, learningRate, weightDecay, _threads);

    /// <summary>Drops the dense gradient a hook's step left in W.grad (it would hold the layer's dense size).</summary>
    public void ReleaseDenseGradient()
    {
        // The gradient's handle is taken inside the scope, which releases it.
        using var scope = NewDisposeScope();
        if (W.grad is not null) W.grad = null;
    }
}
