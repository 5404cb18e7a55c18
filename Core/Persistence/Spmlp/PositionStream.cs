namespace SparsePrune;

/// <summary>
/// A position list as a model file stores it: the relative index codes of
/// <see cref="PositionCoding"/>, either packed at a fixed width (versions 2 and 3) or, in
/// version 3, entropy-coded as symbols of the alphabet 0..2^width − 1 with a
/// <see cref="CodeCoder"/> (widths up to <see cref="MaxCodedBits"/>).
/// <para>
/// Entropy coding pays where the gaps are uneven: a pruned layer keeps whole rows and columns
/// denser than others, so short gaps are far more common than a fixed width assumes. The writer
/// takes whichever of the packed and coded forms, over every width, gives the fewest bytes.
/// </para>
/// </summary>
internal sealed record PositionStream(PositionCoding Coding, CodeCoder? Coder, byte[] Stream)
{
    /// <summary>The widest code an entropy-coded list uses: byte coders take at most 256 symbols.</summary>
    public const int MaxCodedBits = 8;

    /// <summary>The smallest stream for <paramref name="positions"/>; <paramref name="entropy"/> allows coded forms (version 3).</summary>
    public static PositionStream Choose(int[] positions, bool entropy)
    {
        var packed = PositionCoding.Choose(positions);
        var best = new PositionStream(packed, null, packed.Encode(positions));
        if (!entropy || positions.Length == 0) return best;
        for (int bits = PositionCoding.MinBits; bits <= MaxCodedBits; bits++)
        {
            var coding = new PositionCoding(bits, PositionCoding.CodeCount(positions, bits));
            var (coder, stream) = CodeCoding.Smallest(coding.Symbols(positions), 1 << bits);
            if (stream.Length < best.Stream.Length) best = new PositionStream(coding, coder, stream);
        }
        return best;
    }

    /// <summary>The listed positions; FormatException naming <paramref name="what"/> for a stream that is not a valid list.</summary>
    public int[] Decode(long count, long limit, string what)
    {
        if (Coder is not { } coder) return Coding.Decode(Stream, count, limit, what);
        Coding.CheckCounts(count, limit, what);
        if (Coding.Bits > MaxCodedBits) throw new FormatException($"{what} entropy-codes {Coding.Bits}-bit codes; at most {MaxCodedBits}");
        var symbols = CodeCoding.Decode(coder, Stream, Coding.Codes, 1 << Coding.Bits, what);
        return Coding.FromSymbols(symbols, count, limit, what);
    }
}
