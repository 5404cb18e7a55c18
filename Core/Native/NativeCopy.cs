using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Block copies between managed memory and CPU tensors through the tensor's own memory
/// (TorchSharp's element accessors and torch.tensor(array) go element by element: about 20 ns
/// a value, most of a training epoch's set-up for Fashion-MNIST). Other tensors (other devices,
/// no native export) take TorchSharp's path.
/// </summary>
internal static unsafe class NativeCopy
{
    /// <summary>A new float32 tensor of <paramref name="shape"/> holding <paramref name="values"/>.</summary>
    public static Tensor Floats(ReadOnlySpan<float> values, long[] shape)
    {
        var t = empty(shape, ScalarType.Float32);
        if (values.Length != t.numel()) { t.Dispose(); throw new ArgumentException($"{values.Length} values do not fill a tensor of {t.numel()}"); }
        nint address = RawTensor.Address(t, ScalarType.Float32);
        if (address != 0) values.CopyTo(new Span<float>((void*)address, values.Length));
        else t.data<float>().CopyFrom(values);
        return t;
    }

    public static Tensor Floats(float[] values, long[] shape) => Floats(values.AsSpan(), shape);

    /// <summary>Copies a float32 tensor's values (row-major) into <paramref name="destination"/>.</summary>
    public static void ToArray(Tensor t, Span<float> destination)
    {
        long n = t.numel();
        if (destination.Length < n) throw new ArgumentException($"{destination.Length} places cannot take {n} values");
        nint address = RawTensor.Address(t, ScalarType.Float32);
        if (address != 0) new ReadOnlySpan<float>((void*)address, (int)n).CopyTo(destination);
        else
        {
            using var scope = NewDisposeScope();
            t.contiguous().data<float>().CopyTo(destination[..(int)n]);
        }
    }
}
