using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SparsePrune;

/// <summary>Chooses, per layer and batch size, between the dense product and the sparse kernel.</summary>
internal static class KernelChoice
{
    /// <summary>
    /// With no measured choice: the sparse kernel when the layer is sparse enough for the batch
    /// size. Measured on 2048x2048 layers (2 threads): at batch 1 it wins up to 50 % density (it
    /// reads fewer bytes); from batch 16 on, its register tiles (64 or 16 rows) win up to
    /// about 10 %; below 16 rows, where part of the work is done a value at a time, up to about 5 %.
    /// </summary>
    public static bool SparseByDefault(double density, int batch) =>
        batch <= 1 ? density <= 0.35 : batch < 16 ? density <= 0.06 : density <= 0.1;
}
