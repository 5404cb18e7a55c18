namespace SparsePrune;

/// <summary>
/// A B operand of <see cref="Gemm"/> packed once for many products: a dense layer's weight at
/// inference, read as Wᵀ [in x out]. Column panels of the tile's width, each the whole depth
/// ([panel][k][width], zero-padded past the last column), in a pinned array aligned to 64 bytes.
/// </summary>
internal sealed unsafe class PackedMatrix
{
    private PackedMatrix(float[] panels, int offset, int depth, int cols, GemmPath path)
    {
        Panels = panels; Offset = offset; Depth = depth; Cols = cols; Path = path;
    }

    internal float[] Panels { get; }
    /// <summary>Where the 64-byte-aligned data starts in <see cref="Panels"/>.</summary>
    internal int Offset { get; }
    /// <summary>K: the rows of B (a layer's inputs).</summary>
    public int Depth { get; }
    /// <summary>N: the columns of B (a layer's outputs).</summary>
    public int Cols { get; }
    public GemmPath Path { get; }

    /// <summary>B [k x n] packed for <paramref name="path"/>'s tile.</summary>
    public static PackedMatrix Pack(GemmOperand b, int k, int n, GemmPath path)
    {
        int nr = Gemm.TileOf(path).Cols, panels = (n + nr - 1) / nr;
        long length = (long)panels * nr * k;
        if (length + 16 > Array.MaxLength) throw new ArgumentException($"A {k} x {n} matrix is too large to pack.");
        var array = GC.AllocateUninitializedArray<float>((int)length + 16, pinned: true);
        fixed (float* start = array)
        {
            int offset = (int)(((64 - ((nint)start & 63)) & 63) / sizeof(float));
            float* data = start + offset;
            for (int p = 0; p < panels; p++) Gemm.PackB(b, data + (long)p * nr * k, 0, k, p * nr, n, nr);
            return new PackedMatrix(array, offset, k, n, path);
        }
    }
}
