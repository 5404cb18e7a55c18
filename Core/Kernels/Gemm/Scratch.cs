using System.Runtime.InteropServices;

namespace SparsePrune;

/// <summary>
/// Per-thread packing buffers of <see cref="Gemm"/>, 64-byte aligned and kept for the thread's
/// life (grown, never shrunk): allocating them per product cost a fresh mapping and its page
/// faults on every call, as much as a small layer's whole product. The kernels' worker threads
/// live as long as the process, so the buffers are made once.
/// </summary>
internal static unsafe class Scratch
{
    private const int Slots = 2;

    [ThreadStatic] private static nint[]? _buffers;
    [ThreadStatic] private static long[]? _lengths;

    /// <summary>This thread's buffer <paramref name="slot"/>, at least <paramref name="floats"/> long (contents undefined).</summary>
    public static float* Get(int slot, long floats)
    {
        _buffers ??= new nint[Slots];
        _lengths ??= new long[Slots];
        if (_lengths[slot] < floats)
        {
            if (_buffers[slot] != 0) NativeMemory.AlignedFree((void*)_buffers[slot]);
            _buffers[slot] = 0;
            _lengths[slot] = 0;
            long length = Math.Max(floats, 1024);
            _buffers[slot] = (nint)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
            _lengths[slot] = length;
        }
        return (float*)_buffers[slot];
    }
}
