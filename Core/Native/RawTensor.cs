using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The memory of a CPU tensor, read and written in place. TorchSharp 0.107 has no public data
/// pointer, so the address comes from LibTorchSharp's own export (THSTensor_data, the
/// tensor's data_ptr: its storage offset included). Only contiguous CPU tensors of the
/// expected dtype qualify; callers take the torch path for anything else (other devices).
/// </summary>
internal static unsafe class RawTensor
{
    private static nint _data;

    // Looked up on first use: the natives are loaded by then (NativeLibraries.LoadFrom).
    private static delegate* unmanaged<IntPtr, IntPtr> Data
        => (delegate* unmanaged<IntPtr, IntPtr>)(_data != 0 ? _data : _data = NativeLibraries.TorchSharpExport("THSTensor_data"));

    /// <summary>True when tensors' memory can be reached at all (the natives were loaded by <see cref="NativeLibraries.LoadFrom"/>).</summary>
    public static bool Available => Data != null;

    /// <summary>The address of <paramref name="t"/>'s first element, or zero when it is not a contiguous CPU tensor of <paramref name="type"/>.</summary>
    /// <remarks>With <paramref name="count"/>, also zero unless the tensor has exactly that many elements: a caller that reads or writes that many never leaves the tensor's memory.</remarks>
    public static nint Address(Tensor? t, ScalarType type, long count = -1)
    {
        if (t is null || Data == null || t.device_type != DeviceType.CPU || t.dtype != type || !t.is_contiguous()) return 0;
        if (t.numel() == 0 || (count >= 0 && t.numel() != count)) return 0;
        return Data(t.Handle);
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    private const int MadvHugePage = 14;
    private const long HugePage = 2 << 20;

    /// <summary>
    /// Asks Linux to back a fresh, not yet written tensor with 2 MiB pages where it can. The
    /// first write to each page of a large new tensor is much of the cost of a sparsity step on
    /// a virtual machine; huge pages take one fault where small ones take 512. Advice only:
    /// ignored where not supported.
    /// </summary>
    public static void AdviseHugePages(Tensor t)
    {
        if (!OperatingSystem.IsLinux()) return;
        nint start = Address(t, t.dtype);
        if (start == 0) return;
        long bytes = t.numel() * t.ElementSize;
        long first = ((long)start + HugePage - 1) & ~(HugePage - 1), end = ((long)start + bytes) & ~(HugePage - 1);
        if (end - first < HugePage) return;
        try { Madvise((nint)first, (nuint)(end - first), MadvHugePage); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}

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
