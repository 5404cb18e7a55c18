namespace SparsePrune;

/// <summary>
/// The relative index coding of a model file's position lists (Deep Compression, Han et al.
/// 2016), with one change: a gap too wide for the code width is bridged by index-only fillers.
/// <para>
/// Positions are row-major flat indices, listed in increasing order. A walk starts before
/// position 0 (at −1); with a code width of b bits and M = 2^b − 1, code k in 1..M advances k
/// positions and lists the position it lands on, and code 0 advances M positions and lists
/// nothing. A gap g (from the previous listed position, or from −1) therefore takes
/// (g − 1) / M fillers (integer division) and one listing code. Han's fillers are listed
/// zeros: they cost a value each and turn a deleted connection into a present zero. Ours
/// cost b bits and list nothing, so the list is exactly the set it encodes.
/// </para>
/// <para>
/// Codes are packed LSB first into bytes; the unused bits of the last byte are 0. Width 1 is
/// a bitmap of the positions up to the last listed one; wider codes pay off as the gaps grow.
/// The writer takes, per list, the width from 1 to 16 bits that gives the fewest bytes.
/// </para>
/// </summary>
internal readonly record struct PositionCoding(int Bits, long Codes)
{
    public const int MinBits = 1;
    public const int MaxBits = 16;

    /// <summary>Bytes of the packed code stream.</summary>
    public long StreamBytes => (Codes * Bits + 7) / 8;

    /// <summary>The flat indices where <paramref name="flags"/> equals <paramref name="value"/>, in order.</summary>
    public static int[] PositionsOf(bool[] flags, bool value)
    {
        int count = 0;
        foreach (var f in flags) if (f == value) count++;
        var positions = new int[count];
        int k = 0;
        for (int i = 0; i < flags.Length; i++) if (flags[i] == value) positions[k++] = i;
        return positions;
    }

    /// <summary>The code width (1..16 bits) that packs <paramref name="positions"/> into the fewest bytes; ties go to the narrower code.</summary>
    public static PositionCoding Choose(ReadOnlySpan<int> positions)
    {
        var best = new PositionCoding(MinBits, CodeCount(positions, MinBits));
        for (int bits = MinBits + 1; bits <= MaxBits; bits++)
        {
            var candidate = new PositionCoding(bits, CodeCount(positions, bits));
            if (candidate.StreamBytes < best.StreamBytes) best = candidate;
        }
        return best;
    }

    /// <summary>Listing codes plus fillers for <paramref name="positions"/> at <paramref name="bits"/> bits per code.</summary>
    public static long CodeCount(ReadOnlySpan<int> positions, int bits)
    {
        long max = (1L << bits) - 1, codes = 0, previous = -1;
        foreach (var p in positions)
        {
            codes += 1 + (p - previous - 1) / max;
            previous = p;
        }
        return codes;
    }

    /// <summary>The packed code stream of <paramref name="positions"/> (strictly increasing, ≥ 0).</summary>
    public byte[] Encode(ReadOnlySpan<int> positions) => Pack(Symbols(positions));

    /// <summary>
    /// The codes of <paramref name="positions"/> (strictly increasing, ≥ 0) in order, fillers
    /// included: the symbols a version-3 file may entropy-code instead of packing (alphabet 2^Bits).
    /// </summary>
    public ushort[] Symbols(ReadOnlySpan<int> positions)
    {
        var symbols = new ushort[Codes];
        long max = (1L << Bits) - 1, previous = -1, at = 0;
        foreach (var p in positions)
        {
            long gap = p - previous;
            if (gap <= 0) throw new ArgumentException("positions must increase", nameof(positions));
            long fillers = (gap - 1) / max;
            if (at + fillers + 1 > Codes) throw new ArgumentException("the positions are not the ones this coding was chosen for", nameof(positions));
            at += fillers; // a filler: code 0, already zero in the array
            symbols[at++] = (ushort)(gap - fillers * max);
            previous = p;
        }
        if (at != Codes) throw new ArgumentException("the positions are not the ones this coding was chosen for", nameof(positions));
        return symbols;
    }

    /// <summary>The codes packed <see cref="Bits"/> bits each, LSB first.</summary>
    public byte[] Pack(ReadOnlySpan<ushort> symbols)
    {
        var stream = new byte[StreamBytes];
        long bit = 0;
        foreach (var s in symbols) { Put(stream, bit, s, Bits); bit += Bits; }
        return stream;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> positions from the packed <paramref name="stream"/>, all below
    /// <paramref name="limit"/>; throws <see cref="FormatException"/> naming <paramref name="what"/>
    /// when the stream is not a valid coding of exactly that many positions.
    /// </summary>
    public int[] Decode(ReadOnlySpan<byte> stream, long count, long limit, string what)
    {
        CheckCounts(count, limit, what);
        if (stream.Length != StreamBytes) throw new FormatException($"{what} has {stream.Length} bytes of codes, expected {StreamBytes}");
        for (long b = Codes * Bits; b < stream.Length * 8L; b++)
            if ((stream[(int)(b >> 3)] & (1 << (int)(b & 7))) != 0) throw new FormatException($"{what} has non-zero padding bits");
        var symbols = new ushort[Codes];
        for (long c = 0, bit = 0; c < Codes; c++, bit += Bits) symbols[c] = (ushort)Get(stream, bit, Bits);
        return FromSymbols(symbols, count, limit, what);
    }

    /// <summary>Checks the announced counts before anything is allocated for them.</summary>
    public void CheckCounts(long count, long limit, string what)
    {
        if (Bits < MinBits || Bits > MaxBits) throw new FormatException($"{what} has a code width of {Bits} bits; widths run from {MinBits} to {MaxBits}");
        if (count > Codes) throw new FormatException($"{what} lists {count} positions in {Codes} codes");
        if (Codes > limit) throw new FormatException($"{what} has {Codes} codes for {limit} positions");
    }

    /// <summary>The positions that <paramref name="symbols"/> (exactly <see cref="Codes"/> codes below 2^Bits) list; as <see cref="Decode"/>.</summary>
    public int[] FromSymbols(ReadOnlySpan<ushort> symbols, long count, long limit, string what)
    {
        CheckCounts(count, limit, what);
        if (symbols.Length != Codes) throw new FormatException($"{what} holds {symbols.Length} codes, it announces {Codes}");
        var positions = new int[count];
        long max = (1L << Bits) - 1, at = -1;
        int listed = 0;
        bool lastWasFiller = false;
        for (int c = 0; c < symbols.Length; c++)
        {
            int code = symbols[c];
            if (code > max) throw new FormatException($"{what} holds code {code}; {Bits}-bit codes end at {max}");
            lastWasFiller = code == 0;
            at += code == 0 ? max : code;
            if (at >= limit) throw new FormatException($"{what} runs past the last of its {limit} positions (code {c + 1} of {Codes})");
            if (code == 0) continue;
            if (listed == count) throw new FormatException($"{what} lists more than the {count} positions it announces");
            positions[listed++] = (int)at;
        }
        if (listed != count) throw new FormatException($"{what} lists {listed} positions, it announces {count}");
        if (lastWasFiller) throw new FormatException($"{what} ends with a filler code");
        return positions;
    }

    private static void Put(byte[] stream, long bit, int code, int bits)
    {
        for (int i = 0; i < bits; i++, bit++)
            if ((code & (1 << i)) != 0) stream[bit >> 3] |= (byte)(1 << (int)(bit & 7));
    }

    private static int Get(ReadOnlySpan<byte> stream, long bit, int bits)
    {
        int code = 0;
        for (int i = 0; i < bits; i++, bit++)
            if ((stream[(int)(bit >> 3)] & (1 << (int)(bit & 7))) != 0) code |= 1 << i;
        return code;
    }
}
