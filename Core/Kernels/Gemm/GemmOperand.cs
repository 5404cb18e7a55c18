namespace SparsePrune;

/// <summary>
/// A row-major float matrix operand of <see cref="Gemm"/>, read in place. Element (r, c) of the
/// logical matrix is at <c>Data[r * Stride + c]</c>, or at <c>Data[c * Stride + r]</c> when
/// <see cref="Transposed"/> (the matrix is stored as its transpose, as a layer's weight
/// [out, in] is for y = x Wᵀ).
/// </summary>
internal readonly unsafe struct GemmOperand
{
    public GemmOperand(float* data, int stride, bool transposed = false) { Data = data; Stride = stride; Transposed = transposed; }

    public float* Data { get; }
    public int Stride { get; }
    public bool Transposed { get; }

    public float At(int row, int col) => Transposed ? Data[(long)col * Stride + row] : Data[(long)row * Stride + col];
}
