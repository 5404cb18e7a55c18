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
