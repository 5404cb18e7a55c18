namespace SparsePrune;

/// <summary>
/// A constant tensor of an ONNX graph (an initializer, a sparse initializer or a Constant node's
/// value). <see cref="Values"/> is the dense row-major data as floats, null for a tensor that is
/// not floating point (<see cref="DataType"/> names it; integers and strings are in
/// <see cref="Integers"/> and <see cref="Strings"/>). <see cref="Present"/> is null for a dense
/// tensor; for a sparse one it marks the positions the file lists (the others are absent, read 0).
/// </summary>
internal sealed record OnnxConstant(string Name, long[] Dims, string DataType, float[]? Values, bool[]? Present)
{
    /// <summary>The values of an integer tensor (INT64, INT32, …: reshape targets, class labels), else null.</summary>
    public long[]? Integers { get; init; }

    /// <summary>The values of a STRING tensor (class labels), else null.</summary>
    public string[]? Strings { get; init; }

    public int Rank => Dims.Length;

    /// <summary>One value, whatever its rank ([], [1], [1, 1]).</summary>
    public bool IsScalar => Values is { Length: 1 };

    public string Shape => "[" + string.Join(", ", Dims) + "]";

    /// <summary>The transpose of a rank-2 tensor (values and presence).</summary>
    public OnnxConstant Transposed(string name)
    {
        if (Rank != 2) throw new InvalidOperationException($"tensor '{Name}' has shape {Shape}; only a matrix is transposed here");
        long rows = Dims[0], cols = Dims[1];
        float[]? values = Values is null ? null : new float[Values.LongLength];
        bool[]? present = Present is null ? null : new bool[Present.LongLength];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
            {
                if (values is not null) values[c * rows + r] = Values![r * cols + c];
                if (present is not null) present[c * rows + r] = Present![r * cols + c];
            }
        return new OnnxConstant(name, new[] { cols, rows }, DataType, values, present);
    }

    /// <summary>The same data scaled by <paramref name="factor"/> (Gemm's alpha and beta).</summary>
    public OnnxConstant Scaled(float factor) =>
        factor == 1f || Values is null ? this : this with { Values = Values.Select(v => v * factor).ToArray() };
}
