namespace SparsePrune;

/// <summary>
/// Where a scheme reads its parameters from (a .spmlp section's cursor): every length is checked
/// against what remains before anything is allocated, so a lying count fails with a message.
/// </summary>
internal interface IByteSource
{
    /// <summary>The next <paramref name="count"/> bytes; FormatException naming <paramref name="what"/> when fewer remain.</summary>
    ReadOnlySpan<byte> Bytes(long count, string what);
}
