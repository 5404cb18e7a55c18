using System.Buffers.Binary;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// The binary mutations: bit flips and overwritten runs (a damaged disk or transfer), known
/// fields set to huge, zero, negative or nearby values (a lying or buggy writer), sections
/// swapped, repeated or dropped, bytes inserted or cut, and truncation (an interrupted copy).
/// Each case applies one to three of them, chosen by the case's own generator, so a case is
/// reproducible from its number alone.
/// </summary>
internal static class ByteMutator
{
    public static byte[] Mutate(FuzzSeed seed, Random rng)
    {
        var bytes = seed.Bytes.ToArray();
        // Mutations in place first, while the seed's offsets still hold; then at most one that
        // moves bytes (its offsets are the seed's too); truncation, when chosen, comes last.
        int inPlace = rng.Next(4) switch { 0 => 0, 1 or 2 => 1, _ => 2 };
        for (int k = 0; k < inPlace; k++) bytes = MutateInPlace(seed, bytes, rng);
        if (inPlace == 0 || rng.Next(3) == 0) bytes = MutateMoving(seed, bytes, rng);
        if (rng.Next(6) == 0) bytes = bytes.AsSpan(0, rng.Next(bytes.Length + 1)).ToArray();
        return bytes;
    }

    private static byte[] MutateInPlace(FuzzSeed seed, byte[] bytes, Random rng)
    {
        if (bytes.Length == 0) return bytes;
        var fixedFields = seed.Fields.Where(f => !f.Varint && f.Offset + f.Width <= bytes.Length).ToArray();
        switch (rng.Next(fixedFields.Length > 0 ? 5 : 2))
        {
            case 0:
                for (int flips = rng.Next(1, 9); flips > 0; flips--)
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                break;
            case 1:
            {
                int at = rng.Next(bytes.Length), length = Math.Min(rng.Next(1, 17), bytes.Length - at);
                byte fill = rng.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => (byte)rng.Next(256) };
                bool random = rng.Next(2) == 0;
                for (int k = 0; k < length; k++) bytes[at + k] = random ? (byte)rng.Next(256) : fill;
                break;
            }
            default:
            {
                var field = fixedFields[rng.Next(fixedFields.Length)];
                Write(bytes, field, Interesting(Read(bytes, field), field.Width * 8, rng));
                break;
            }
        }
        return bytes;
    }

    private static byte[] MutateMoving(FuzzSeed seed, byte[] bytes, Random rng)
    {
        var sections = seed.Sections.Where(s => s.Start >= 0 && s.Length > 0 && s.Start + s.Length <= bytes.Length).ToArray();
        var varints = seed.Fields.Where(f => f.Varint && f.Offset < bytes.Length).ToArray();
        int choice = rng.Next(6);
        if (choice <= 2 && sections.Length == 0) choice = 4;
        if (choice == 3 && varints.Length == 0) choice = 5;
        switch (choice)
        {
            case 0:
            {
                // Two sections trade places; overlapping ones (one inside the other) are repeated instead.
                var a = sections[rng.Next(sections.Length)];
                var b = sections[rng.Next(sections.Length)];
                if (a.Start > b.Start) (a, b) = (b, a);
                if (a.Start + a.Length <= b.Start)
                    return Concat(bytes.AsSpan(0, a.Start), bytes.AsSpan(b.Start, b.Length), bytes.AsSpan(a.Start + a.Length, b.Start - a.Start - a.Length),
                        bytes.AsSpan(a.Start, a.Length), bytes.AsSpan(b.Start + b.Length));
                return Concat(bytes.AsSpan(0, a.Start + a.Length), bytes.AsSpan(a.Start, a.Length), bytes.AsSpan(a.Start + a.Length));
            }
            case 1:
            {
                var s = sections[rng.Next(sections.Length)];
                int at = rng.Next(2) == 0 ? s.Start + s.Length : rng.Next(bytes.Length + 1);
                return Concat(bytes.AsSpan(0, at), bytes.AsSpan(s.Start, s.Length), bytes.AsSpan(at));
            }
            case 2:
            {
                var s = sections[rng.Next(sections.Length)];
                return Concat(bytes.AsSpan(0, s.Start), bytes.AsSpan(s.Start + s.Length));
            }
            case 3:
            {
                var field = varints[rng.Next(varints.Length)];
                int end = field.Offset;
                while (end < bytes.Length && (bytes[end] & 0x80) != 0) end++;
                end = Math.Min(end + 1, bytes.Length);
                ulong old = 0;
                for (int k = field.Offset, shift = 0; k < end && shift < 64; k++, shift += 7) old |= (ulong)(bytes[k] & 0x7F) << shift;
                return Concat(bytes.AsSpan(0, field.Offset), EncodeVarint((ulong)Interesting((long)old, 64, rng)), bytes.AsSpan(end));
            }
            case 4:
            {
                int at = rng.Next(bytes.Length + 1);
                var run = new byte[rng.Next(1, 33)];
                rng.NextBytes(run);
                return Concat(bytes.AsSpan(0, at), run, bytes.AsSpan(at));
            }
            default:
            {
                if (bytes.Length == 0) return bytes;
                int at = rng.Next(bytes.Length), length = Math.Min(rng.Next(1, 65), bytes.Length - at);
                return Concat(bytes.AsSpan(0, at), bytes.AsSpan(at + length));
            }
        }
    }

    /// <summary>A value a reader should distrust: zero, negative, the extremes of the field's width, near the old value, or a power of two.</summary>
    public static long Interesting(long old, int bits, Random rng) => rng.Next(12) switch
    {
        0 => 0,
        1 => -1,
        2 => 1,
        3 => bits >= 64 ? long.MaxValue : (1L << (bits - 1)) - 1,
        4 => bits >= 64 ? long.MinValue : -(1L << (bits - 1)),
        5 => old + 1,
        6 => old - 1,
        7 => old * 2,
        8 => 1L << rng.Next(Math.Min(bits, 63)),
        9 => (1L << rng.Next(Math.Min(bits, 63))) + rng.Next(-2, 3),
        10 => -old,
        _ => rng.NextInt64(),
    };

    public static long Read(byte[] bytes, FuzzField f)
    {
        var span = bytes.AsSpan(f.Offset, f.Width);
        return (f.Width, f.BigEndian) switch
        {
            (1, _) => span[0],
            (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(span),
            (2, true) => BinaryPrimitives.ReadUInt16BigEndian(span),
            (4, false) => BinaryPrimitives.ReadInt32LittleEndian(span),
            (4, true) => BinaryPrimitives.ReadInt32BigEndian(span),
            (8, false) => BinaryPrimitives.ReadInt64LittleEndian(span),
            _ => BinaryPrimitives.ReadInt64BigEndian(span),
        };
    }

    public static void Write(byte[] bytes, FuzzField f, long value)
    {
        var span = bytes.AsSpan(f.Offset, f.Width);
        switch (f.Width, f.BigEndian)
        {
            case (1, _): span[0] = (byte)value; break;
            case (2, false): BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
            case (2, true): BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value); break;
            case (4, false): BinaryPrimitives.WriteInt32LittleEndian(span, (int)value); break;
            case (4, true): BinaryPrimitives.WriteInt32BigEndian(span, (int)value); break;
            case (8, false): BinaryPrimitives.WriteInt64LittleEndian(span, value); break;
            default: BinaryPrimitives.WriteInt64BigEndian(span, value); break;
        }
    }

    public static byte[] EncodeVarint(ulong value)
    {
        var result = new List<byte>(10);
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            result.Add(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
        return result.ToArray();
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c) => [.. a, .. b, .. c];

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => [.. a, .. b];

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, ReadOnlySpan<byte> d, ReadOnlySpan<byte> e) => [.. a, .. b, .. c, .. d, .. e];
}
