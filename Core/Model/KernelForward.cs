using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Inference through the module's own kernels: the rows are copied out of the input tensor once,
/// every layer multiplies between two managed buffers (the CSR kernel for a layer that uses it,
/// else the dense product of <see cref="Gemv"/> for one row or <see cref="Gemm"/> for a batch),
/// the activation is applied in place, and one tensor is made for the output. LibTorch's per-call
/// cost (a tensor per layer and per activation, a few microseconds each) was most of a small
/// model's one-row latency, and its dense product runs at half this CPU's speed (see <see cref="Gemm"/>).
/// </summary>
internal static unsafe class KernelForward
{
    /// <summary>
    /// y for normalized rows <paramref name="x"/> [batch, in] through <paramref name="layers"/>, or
    /// null where this path does not apply (a weight not a contiguous float32 CPU tensor, or a
    /// batch too large for one buffer): the caller takes LibTorch's path.
    /// </summary>
    public static Tensor? TryRun(IReadOnlyList<LayerState> layers, Activation activation, Tensor x, int threads)
    {
        if (x.dim() != 2 || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU || layers.Count == 0) return null;
        int batch = (int)x.shape[0];
        if (batch <= 0 || x.shape[1] != layers[0].InFeatures) return null;
        int widest = (int)x.shape[1];
        foreach (var l in layers)
        {
            if (l.Weight.device_type != DeviceType.CPU || l.Weight.dtype != ScalarType.Float32 || !l.Weight.is_contiguous()
                || l.Bias.dtype != ScalarType.Float32 || !l.Bias.is_contiguous()) return null;
            widest = Math.Max(widest, l.OutFeatures);
        }
        if (!CsrLayer.FitsShape(batch, widest, widest)) return null;
        int length = batch * widest;
        var input = ArrayPool<float>.Shared.Rent(length);
        var output = ArrayPool<float>.Shared.Rent(length);
        try
        {
            NativeCopy.ToArray(x, input.AsSpan(0, batch * layers[0].InFeatures));
            for (int i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                int outs = layer.OutFeatures;
                if (layer.UsesSparseKernel(batch)) layer.Csr.Multiply(input, output, batch, threads);
                else if (!Dense(layer, input, output, batch, threads)) return null;
                if (i + 1 < layers.Count) Activate(activation, output.AsSpan(0, batch * outs), batch, outs);
                (input, output) = (output, input);
            }
            return NativeCopy.Floats(input.AsSpan(0, batch * layers[^1].OutFeatures), new long[] { batch, layers[^1].OutFeatures });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(output);
        }
    }

    /// <summary>y = x Wᵀ + b for a layer multiplied dense: one row straight from the weight, a batch through its packed copy.</summary>
    private static bool Dense(LayerState layer, float[] x, float[] y, int batch, int threads)
    {
        int rows = layer.OutFeatures, cols = layer.InFeatures;
        nint w = RawTensor.Address(layer.Weight, ScalarType.Float32, (long)rows * cols);
        nint b = RawTensor.Address(layer.Bias, ScalarType.Float32, rows);
        if (w == 0 || b == 0) return false;
        fixed (float* xs = x, ys = y)
        {
            if (batch == 1) Gemv.Multiply((float*)w, rows, cols, xs, (float*)b, ys, threads, GemmPaths.Best);
            else if (layer.PackedWeight is { } packed) Gemm.Multiply(new GemmOperand(xs, cols), packed, ys, rows, batch, (float*)b, false, threads);
            else return false;
        }
        GC.KeepAlive(layer.Weight);
        GC.KeepAlive(layer.Bias);
        return true;
    }

    /// <summary>The activation in place: the managed form where the activation has one, else LibTorch's on a copy.</summary>
    private static void Activate(Activation activation, Span<float> values, int batch, int width)
    {
        if (activation.TryForward(values)) return;
        using var scope = NewDisposeScope();
        var t = activation.Forward(NativeCopy.Floats(values, new long[] { batch, width }));
        NativeCopy.ToArray(t.contiguous(), values);
    }
}
