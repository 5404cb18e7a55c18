namespace SparsePrune;

/// <summary>
/// A scheme whose row r's values are (level − zero point) · scale for signed integer levels:
/// what ONNX's DequantizeLinear computes per axis, so an exporter can write the levels as int8
/// instead of the float32 values. Only schemes of this shape have an int8 form.
/// </summary>
internal interface IAffineRows
{
    /// <summary>Whether <paramref name="q"/> has a scale and zero point for each of <paramref name="rows"/> rows.</summary>
    bool HasRows(LayerQuantization q, int rows);

    /// <summary>Row <paramref name="row"/>'s scale and zero point (a signed level).</summary>
    (float Scale, int ZeroPoint) Row(LayerQuantization q, int row);

    /// <summary>The signed integer level of a code (a code is 0 to alphabet − 1).</summary>
    int Level(LayerQuantization q, int code);
}
