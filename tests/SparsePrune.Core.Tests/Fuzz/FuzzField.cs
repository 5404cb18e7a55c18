namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// A number in a seed file whose meaning the reader trusts: a length, a count, a shape, a width
/// or a type tag. <paramref name="Width"/> is 1, 2, 4 or 8 bytes; <paramref name="Varint"/>
/// marks a protobuf varint (its width is then whatever its bytes take).
/// </summary>
internal readonly record struct FuzzField(int Offset, int Width, bool BigEndian = false, bool Varint = false)
{
    public static FuzzField Int32(int offset) => new(offset, 4);
    public static FuzzField Int32BigEndian(int offset) => new(offset, 4, BigEndian: true);
    public static FuzzField VarintAt(int offset) => new(offset, 0, Varint: true);
}
