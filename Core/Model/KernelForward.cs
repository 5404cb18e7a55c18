using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Inference through the module's own kernels: the rows are read in place (or copied once),
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
        if (layers.Count == 0 || x.dim() != 2) return null;
        var shape = x.shape;
        int batch = (int)shape[0], features = (int)shape[1];
        int widest = features;
        foreach (var l in layers)
        {
            var memory = l.Memory;
            if (memory.Weight == 0) return null;
            widest = Math.Max(widest, memory.Rows);
        }
        if (batch <= 0 || features != layers[0].Memory.Cols || !CsrLayer.FitsShape(batch, widest, widest)) return null;
        // The rows are read where they are when the tensor allows it (a dense first layer); else copied once.
        nint rows = RawTensor.Address(x, ScalarType.Float32, (long)batch * features);
        if (rows == 0 && (x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)) return null;
        int length = batch * widest;
        var input = ArrayPool<float>.Shared.Rent(length);
        var output = ArrayPool<float>.Shared.Rent(length);
        try
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                int outs = layer.Memory.Rows;
                bool sparse = layer.UsesSparseKernel(batch);
                if (i == 0 && (rows == 0 || sparse)) NativeCopy.ToArray(x, input.AsSpan(0, batch * features));
                if (sparse) layer.Csr.Multiply(input, output, batch, threads);
                else
                {
                    fixed (float* buffer = input)
                        if (!Dense(layer, i == 0 && rows != 0 ? (float*)rows : buffer, output, batch, threads)) return null;
                }
                if (i + 1 < layers.Count) Activate(activation, output.AsSpan(0, batch * outs), batch, outs);
                (input, output) = (output, input);
            }
            int last = layers[^1].Memory.Rows;
            return NativeCopy.Floats(input.AsSpan(0, batch * last), new long[] { batch, last });
        }
        finally
        {
            GC.KeepAlive(x);
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(output);
        }
    }

    /// <summary>y = x Wᵀ + b for a layer multiplied dense: one row straight from the weight, a batch through its packed copy.</summary>
    private static bool Dense(LayerState layer, float* x, float[] y, int batch, int threads)
    {
        var (w, b, rows, cols) = layer.Memory;
        if (w == 0) return false;
        fixed (float* ys = y)
        {
            if (batch == 1) Gemv.Multiply((float*)w, rows, cols, x, (float*)b, ys, threads, GemmPaths.Best);
            else if (layer.PackedWeight is { } packed) Gemm.Multiply(new GemmOperand(x, cols), packed, ys, rows, batch, (float*)b, false, threads);
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
