using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The tensors of one linear layer. <see cref="Weight"/> holds the live values (masked and
/// deleted connections read 0). <see cref="Keep"/> (bool: true keep, false masked) is the
/// reversible sparsity mask and <see cref="MaskedValues"/> keeps the values behind it (0 elsewhere); <see cref="Deleted"/>
/// marks connections removed by pruning, which nothing restores. Every tensor here lives
/// outside any dispose scope and is owned by this object.
/// </summary>
internal sealed class LayerState : IDisposable
{
    public LayerState(Tensor weight, Tensor bias)
    {
        Weight = weight;
        Bias = bias;
    }

    /// <summary>The dtype of <see cref="Keep"/> (true: keep): build masks read from elsewhere (files) with it.</summary>
    internal static readonly ScalarType MaskType = ScalarType.Bool;

    public Tensor Weight { get; private set; }
    public Tensor Bias { get; private set; }
    public Tensor? Keep { get; private set; }
    public Tensor? MaskedValues { get; private set; }
    public Tensor? Deleted { get; private set; }

    public int InFeatures => (int)Weight.shape[1];
    public int OutFeatures => (int)Weight.shape[0];
    public long DenseWeights => Weight.shape[0] * Weight.shape[1];
    public LayerStorage Stored => Deleted is null ? LayerStorage.Dense : LayerStorage.Sparse;

    public long DeletedCount
    {
        get
        {
            if (Deleted is null) return 0;
            using var scope = NewDisposeScope();
            return Deleted.count_nonzero().item<long>();
        }
    }

    /// <summary>Weights present now: dense count minus deleted connections.</summary>
    public long PresentWeights => DenseWeights - DeletedCount;

    public long NonZeroWeights
    {
        get
        {
            using var scope = NewDisposeScope();
            return Weight.count_nonzero().item<long>();
        }
    }

    public long NonZeroBiases
    {
        get
        {
            using var scope = NewDisposeScope();
            return Bias.count_nonzero().item<long>();
        }
    }

    /// <summary>
    /// The float 1/0 mask that training multiplies the weights with after each step (sparsity mask and
    /// deletions together), or null when every weight is free. The caller owns the result.
    /// </summary>
    public Tensor? KeepMask()
    {
        if (Keep is null && Deleted is null) return null;
        using var scope = NewDisposeScope();
        // One pass over the bool masks and one conversion: a float mask of ones filled at the
        // deleted places took two passes over the float size (about 0.1 s for 16 M weights).
        var present = Deleted is null ? Keep! : Keep is null ? Deleted.logical_not() : Keep.logical_and(Deleted.logical_not());
        return present.to_type(Weight.dtype, copy: true).DetachFromDisposeScope();
    }

    /// <summary>The weights as they would be with no sparsity mask (deleted ones stay 0).</summary>
    public Tensor Underlying()
    {
        return MaskedValues is null ? Weight.clone() : Weight + MaskedValues;
    }

    // Under the kernel's lock: a CSR copy being built from the old tensor finishes before it is freed.
    public void SetWeight(Tensor weight) { lock (_csrGate) { Replace(Weight, weight); Weight = weight; DropCaches(); } }
    public void SetBias(Tensor bias) { lock (_csrGate) { Replace(Bias, bias); Bias = bias; DropCaches(); } }

    /// <summary>How the weights are quantized (null: free float32 weights). The weight tensor holds the effective values.</summary>
    public LayerQuantization? Quantization { get; set; }

    /// <summary>
    /// The values the biases were quantized to (Invoke-Quantization -BiasBits), or null: float32
    /// biases. A file codes the biases with it only while every bias still is one of its values
    /// (training moves them off; they are then written as float32).
    /// </summary>
    public float[]? BiasCodebook { get; set; }

    /// <summary>The kernel inference uses for this layer (only a layer stored sparse can use the sparse one).</summary>
    public LayerKernel Kernel { get; set; } = LayerKernel.Auto;

    private CsrLayer? _csr;
    private readonly object _csrGate = new();

    /// <summary>The CSR copy of the live weights, built on first use and dropped whenever the weights change.</summary>
    public CsrLayer Csr
    {
        get
        {
            lock (_csrGate) return _csr ??= CsrLayer.From(Weight, Bias);
        }
    }

    private PackedMatrix? _packed;

    /// <summary>
    /// The weight packed for the dense product of a batch (<see cref="Gemm"/>): built on first
    /// use and dropped whenever the weights change, as <see cref="Csr"/> is. Null when the weight
    /// is not a contiguous float32 CPU tensor (LibTorch multiplies it then).
    /// </summary>
    public unsafe PackedMatrix? PackedWeight
    {
        get
        {
            lock (_csrGate)
            {
                if (_packed is not null) return _packed;
                int rows = OutFeatures, cols = InFeatures;
                nint w = RawTensor.Address(Weight, ScalarType.Float32, (long)rows * cols);
                if (w == 0) return null;
                var packed = PackedMatrix.Pack(new GemmOperand((float*)w, cols, transposed: true), cols, rows, GemmPaths.Best);
                GC.KeepAlive(Weight);
                return _packed = packed;
            }
        }
    }

    public void InvalidateKernel() { lock (_csrGate) DropCaches(); }

    private void DropCaches() { _csr = null; _packed = null; _memory = null; _nonZeroFraction = null; }

    private (nint Weight, nint Bias, int Rows, int Cols)? _memory;

    /// <summary>
    /// Where the weight's and the bias's values are, for kernels that read them in place, with the
    /// layer's shape: addresses 0 unless both are contiguous float32 CPU tensors. Looked up once per change of the tensors
    /// (each check is a call into LibTorch, and a small model's one-row pass made a dozen).
    /// </summary>
    public (nint Weight, nint Bias, int Rows, int Cols) Memory
    {
        get
        {
            lock (_csrGate)
            {
                if (_memory is { } known) return known;
                int rows = OutFeatures, cols = InFeatures;
                nint w = RawTensor.Address(Weight, ScalarType.Float32, (long)rows * cols);
                nint b = RawTensor.Address(Bias, ScalarType.Float32, rows);
                return (_memory = w != 0 && b != 0 ? (w, b, rows, cols) : (0, 0, rows, cols)).Value;
            }
        }
    }

    /// <summary>Whether inference of a batch of <paramref name="batch"/> rows runs through the sparse kernel.</summary>
    public bool UsesSparseKernel(int batch) =>
        Stored == LayerStorage.Sparse && Weight.device_type == DeviceType.CPU && CsrLayer.FitsShape(batch, OutFeatures, InFeatures) && Kernel switch
        {
            LayerKernel.Sparse => true,
            LayerKernel.Dense => false,
            _ => KernelChoice.SparseByDefault(NonZeroFraction, batch),
        };

    private double? _nonZeroFraction;
    private double NonZeroFraction
    {
        get
        {
            lock (_csrGate)
            {
                if (_nonZeroFraction is null)
                {
                    using var scope = NewDisposeScope();
                    _nonZeroFraction = (double)Weight.count_nonzero().item<long>() / Math.Max(1, DenseWeights);
                }
                return _nonZeroFraction.Value;
            }
        }
    }

    /// <summary>Installs a new sparsity mask (null: none) and its hidden values together.</summary>
    public void SetMask(Tensor? mask, Tensor? hidden)
    {
        Replace(Keep, mask); Keep = mask;
        Replace(MaskedValues, hidden); MaskedValues = hidden;
        InvalidateKernel();
    }

    /// <summary>
    /// Installs a mask and its hidden values without disposing the ones installed now: the
    /// caller owns those (an undo record) and disposes them once the change holds.
    /// </summary>
    public void ReplaceMaskKeepingOld(Tensor? mask, Tensor? hidden)
    {
        Keep = mask;
        MaskedValues = hidden;
        InvalidateKernel();
    }

    public void SetDeleted(Tensor? deleted) { Replace(Deleted, deleted); Deleted = deleted; InvalidateKernel(); }

    private static void Replace(Tensor? old, Tensor? replacement)
    {
        if (old is not null && !ReferenceEquals(old, replacement)) old.Dispose();
    }

    public LayerState Clone()
    {
        using var scope = NewDisposeScope();
        var copy = new LayerState(Weight.detach().clone().DetachFromDisposeScope(), Bias.detach().clone().DetachFromDisposeScope());
        copy.Keep = Keep?.clone().DetachFromDisposeScope();
        copy.MaskedValues = MaskedValues?.clone().DetachFromDisposeScope();
        copy.Deleted = Deleted?.clone().DetachFromDisposeScope();
        copy.Kernel = Kernel;
        copy.Quantization = Quantization;
        copy.BiasCodebook = BiasCodebook;
        return copy;
    }

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
        Keep?.Dispose();
        MaskedValues?.Dispose();
        Deleted?.Dispose();
    }
}
