using System.Buffers.Binary;

namespace SparsePrune;

/// <summary>
/// Reads a payload front to back. Every length is checked against the bytes that remain
/// before anything is allocated for it, so a lying length field fails with a message
/// instead of a huge allocation.
/// </summary>
internal sealed class SpmlpCursor : IByteSource
{
    private readonly ArraySegment<byte> _data;
    private int _at;

    public SpmlpCursor(ArraySegment<byte> data) => _data = data;

    public int Remaining => _data.Count - _at;

    public ReadOnlySpan<byte> Bytes(long count, string what)
    {
        if (count < 0 || count > Remaining) throw new FormatException($"the payload ends inside {what}: {count} bytes needed, {Remaining} left");
        var span = _data.AsSpan(_at, (int)count);
        _at += (int)count;
        return span;
    }

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, "a 4-byte number"));
    public long UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, "a 4-byte number"));
    public int UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, "a 2-byte number"));
    public byte Byte() => Bytes(1, "a 1-byte field")[0];

    /// <summary>A non-negative int32 count.</summary>
    public int Count(string what)
    {
        int n = Int32();
        if (n < 0) throw new FormatException($"{what} is {n}");
        return n;
    }

    /// <summary><paramref name="count"/>, once it is clear that that many items of <paramref name="size"/> bytes remain.</summary>
    public int Fits(long count, int size, string what)
    {
        if (count < 0 || count * size > Remaining) throw new FormatException($"the payload ends inside {what}: {count * size} bytes needed, {Remaining} left");
        return (int)count;
    }
}
