using System.IO.Compression;

namespace SparsePrune;

/// <summary>How a format-3 layer's code stream is entropy-coded.</summary>
internal enum CodeCoder : byte
{
    /// <summary>Canonical Huffman (Deep Compression): the code lengths, then the codes MSB first.</summary>
    Huffman = 1,
    /// <summary>One byte per code, compressed with .NET's Deflate (smallest size).</summary>
    Deflate = 2,
    /// <summary>One byte per code, compressed with .NET's Brotli (window 24; quality 11, or 6 beyond 2^20 codes, where 11 takes seconds).</summary>
    Brotli = 3,
}

/// <summary>
/// The entropy coding of a quantized layer's codes (symbols 0..alphabet−1, alphabet ≤ 257).
/// <para>
/// Huffman stream: alphabet bytes, each symbol's code length (0: the symbol does not occur;
/// at most <see cref="MaxLength"/>), then the canonical codes (shorter codes first, ties by
/// symbol, as Deflate assigns them) of the symbols in order, MSB first; the unused bits of the
/// last byte are 0. A stream whose lengths over-subscribe the code space, that holds a code no
/// symbol has, that ends early or that has bytes or non-zero bits after the last code is refused.
/// </para>
/// <para>
/// Deflate and Brotli streams hold one byte per code, so they serve alphabets of at most 256
/// symbols; the decoded stream must be exactly as long as the codes announced.
/// </para>
/// </summary>
internal static class CodeCoding
{
    public const int MaxLength = 24;

    /// <summary>The coder that gives the fewest bytes for these codes, and its stream; ties go to the lower coder.</summary>
    /// <remarks>
    /// Remembered by the codes' hash: a compression report asks for the same layers' streams
    /// again and again, and Brotli at quality 11 is slow. The hash covers every input, so a
    /// changed layer is coded afresh; the cache holds at most <see cref="CacheEntries"/> streams.
    /// </remarks>
    public static (CodeCoder Coder, byte[] Stream) Smallest(ushort[] codes, int alphabet, CodeCoder? only = null)
    {
        var key = CacheKey(codes, alphabet, only);
        if (Cache.TryGetValue(key, out var cached)) return cached;
        (CodeCoder, byte[])? best = null;
        foreach (var coder in new[] { CodeCoder.Huffman, CodeCoder.Deflate, CodeCoder.Brotli })
        {
            if (only is { } o && o != coder) continue;
            if (coder != CodeCoder.Huffman && alphabet > 256) continue;
            var stream = Encode(coder, codes, alphabet);
            if (best is null || stream.Length < best.Value.Item2.Length) best = (coder, stream);
        }
        var result = best ?? throw new ArgumentException($"{only} cannot code an alphabet of {alphabet} symbols");
        if (Cache.Count >= CacheEntries) Cache.Clear();
        Cache[key] = result;
        return result;
    }

    private const int CacheEntries = 256;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (CodeCoder, byte[])> Cache = new();

    private static string CacheKey(ushort[] codes, int alphabet, CodeCoder? only)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(codes.AsSpan()));
        return $"{alphabet}/{(int?)only}/{codes.Length}/{Convert.ToHexString(hash)}";
    }

    public static byte[] Encode(CodeCoder coder, ushort[] codes, int alphabet)
    {
        switch (coder)
        {
            case CodeCoder.Huffman: return HuffmanEncode(codes, alphabet);
            case CodeCoder.Deflate:
            {
                using var output = new MemoryStream();
                using (var deflate = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
                    deflate.Write(AsBytes(codes));
                return output.ToArray();
            }
            case CodeCoder.Brotli:
            {
                var bytes = AsBytes(codes);
                var output = new byte[BrotliEncoder.GetMaxCompressedLength(bytes.Length)];
                // Quality 11 runs at about 1 MB/s: a large dense layer would make every report and export slow.
                int quality = bytes.Length <= 1 << 20 ? 11 : 6;
                if (!BrotliEncoder.TryCompress(bytes, output, out int written, quality, 24)) throw new InvalidOperationException("Brotli could not compress the codes");
                return output.AsSpan(0, written).ToArray();
            }
            default: throw new ArgumentOutOfRangeException(nameof(coder));
        }
    }

    /// <summary>
    /// Decodes exactly <paramref name="count"/> codes, each below <paramref name="alphabet"/>;
    /// FormatException naming <paramref name="what"/> for anything else.
    /// </summary>
    public static ushort[] Decode(CodeCoder coder, ReadOnlySpan<byte> stream, long count, int alphabet, string what)
    {
        switch (coder)
        {
            case CodeCoder.Huffman: return HuffmanDecode(stream, count, alphabet, what);
            case CodeCoder.Deflate:
            case CodeCoder.Brotli:
            {
                if (alphabet > 256) throw new FormatException($"{what} uses {coder} for {alphabet} symbols; it codes at most 256");
                var bytes = new byte[count];
                try
                {
                    using var input = new MemoryStream(stream.ToArray(), writable: false);
                    using Stream decoder = coder == CodeCoder.Deflate ? new DeflateStream(input, CompressionMode.Decompress) : new BrotliStream(input, CompressionMode.Decompress);
                    int read = 0, n;
                    while (read < bytes.Length && (n = decoder.Read(bytes, read, bytes.Length - read)) > 0) read += n;
                    if (read != count) throw new FormatException($"{what} holds {read} codes, it announces {count}");
                    if (decoder.ReadByte() >= 0) throw new FormatException($"{what} holds more codes than the {count} it announces");
                }
                catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException)
                {
                    throw new FormatException($"{what} is not a valid {coder} stream: {e.Message}", e);
                }
                var codes = new ushort[count];
                for (long k = 0; k < count; k++)
                {
                    if (bytes[k] >= alphabet) throw new FormatException($"{what} holds code {bytes[k]}; there are {alphabet}");
                    codes[k] = bytes[k];
                }
                return codes;
            }
            default: throw new FormatException($"{what} names an unknown coder {(byte)coder}");
        }
    }

    private static byte[] AsBytes(ushort[] codes)
    {
        var bytes = new byte[codes.Length];
        for (int k = 0; k < codes.Length; k++) bytes[k] = checked((byte)codes[k]);
        return bytes;
    }

    // ---- Huffman ---------------------------------------------------------------------------

    /// <summary>Huffman code lengths for the frequencies, at most <see cref="MaxLength"/> (frequencies halved until they fit); a lone symbol gets length 1.</summary>
    internal static byte[] Lengths(long[] frequencies)
    {
        var freq = frequencies.ToArray();
        while (true)
        {
            var lengths = new byte[freq.Length];
            var used = Enumerable.Range(0, freq.Length).Where(s => freq[s] > 0).ToArray();
            if (used.Length == 0) return lengths;
            if (used.Length == 1) { lengths[used[0]] = 1; return lengths; }
            // Nodes: leaves 0..n-1, internal n..; parent links give each leaf's depth.
            var parent = new int[2 * freq.Length];
            var queue = new PriorityQueue<int, (long, int)>();
            int next = freq.Length;
            foreach (var s in used) queue.Enqueue(s, (freq[s], s));
            var weight = new long[2 * freq.Length];
            foreach (var s in used) weight[s] = freq[s];
            while (queue.Count > 1)
            {
                queue.TryDequeue(out int a, out _);
                queue.TryDequeue(out int b, out _);
                weight[next] = weight[a] + weight[b];
                parent[a] = parent[b] = next;
                queue.Enqueue(next, (weight[next], next));
                next++;
            }
            int root = next - 1, max = 0;
            foreach (var s in used)
            {
                int depth = 0;
                for (int node = s; node != root; node = parent[node]) depth++;
                lengths[s] = (byte)Math.Min(depth, 255);
                max = Math.Max(max, depth);
            }
            if (max <= MaxLength) return lengths;
            for (int s = 0; s < freq.Length; s++) if (freq[s] > 0) freq[s] = Math.Max(1, freq[s] >> 1);
        }
    }

    /// <summary>Canonical codes of the lengths (Deflate's rule); FormatException if they over-subscribe the code space.</summary>
    private static uint[] CanonicalCodes(ReadOnlySpan<byte> lengths, string what)
    {
        var perLength = new long[MaxLength + 1];
        foreach (var l in lengths)
        {
            if (l > MaxLength) throw new FormatException($"{what} has a code length of {l} bits; at most {MaxLength}");
            if (l > 0) perLength[l]++;
        }
        long left = 1;
        for (int l = 1; l <= MaxLength; l++)
        {
            left = 2 * left - perLength[l];
            if (left < 0) throw new FormatException($"{what} has an inconsistent Huffman table: its code lengths over-subscribe the code space");
        }
        var nextCode = new uint[MaxLength + 2];
        uint code = 0;
        for (int l = 1; l <= MaxLength; l++) { code = (code + (uint)perLength[l - 1]) << 1; nextCode[l] = code; }
        var codes = new uint[lengths.Length];
        for (int s = 0; s < lengths.Length; s++) if (lengths[s] > 0) codes[s] = nextCode[lengths[s]]++;
        return codes;
    }

    private static byte[] HuffmanEncode(ushort[] symbols, int alphabet)
    {
        var freq = new long[alphabet];
        foreach (var s in symbols) freq[s]++;
        var lengths = Lengths(freq);
        var codes = CanonicalCodes(lengths, "the codes");
        long bits = 0;
        for (int s = 0; s < alphabet; s++) bits += freq[s] * lengths[s];
        var stream = new byte[alphabet + (bits + 7) / 8];
        lengths.CopyTo(stream, 0);
        long at = 8L * alphabet;
        foreach (var s in symbols)
            for (int i = lengths[s] - 1; i >= 0; i--, at++)
                if (((codes[s] >> i) & 1) != 0) stream[at >> 3] |= (byte)(0x80 >> (int)(at & 7));
        return stream;
    }

    private static ushort[] HuffmanDecode(ReadOnlySpan<byte> stream, long count, int alphabet, string what)
    {
        if (stream.Length < alphabet) throw new FormatException($"{what} ends inside its Huffman table: {stream.Length} bytes for {alphabet} code lengths");
        var lengths = stream[..alphabet].ToArray();
        CanonicalCodes(lengths, what);
        var bits = stream[alphabet..];
        // Every code takes at least one bit: check the count against the bytes before allocating.
        if (count > 8L * bits.Length) throw new FormatException($"{what} announces {count} codes in {bits.Length} bytes");
        // Canonical decoding (as zlib's puff): symbols sorted by length, then by value.
        var perLength = new int[MaxLength + 1];
        foreach (var l in lengths) if (l > 0) perLength[l]++;
        var sorted = Enumerable.Range(0, alphabet).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s).Select(s => (ushort)s).ToArray();
        if (count > 0 && sorted.Length == 0) throw new FormatException($"{what} has an empty Huffman table for {count} codes");
        var symbols = new ushort[count];
        long at = 0, end = 8L * bits.Length;
        for (long k = 0; k < count; k++)
        {
            int code = 0, first = 0, index = 0;
            for (int len = 1; ; len++)
            {
                if (len > MaxLength) throw new FormatException($"{what} holds a bit pattern that is no code of its Huffman table (code {k + 1} of {count})");
                if (at >= end) throw new FormatException($"{what} ends inside code {k + 1} of {count}");
                code |= (bits[(int)(at >> 3)] >> (7 - (int)(at & 7))) & 1;
                at++;
                int n = perLength[len];
                if (code - first < n) { symbols[k] = sorted[index + code - first]; break; }
                index += n;
                first = (first + n) << 1;
                code <<= 1;
            }
        }
        if ((at + 7) / 8 != bits.Length) throw new FormatException($"{what} has {bits.Length - (at + 7) / 8} bytes after its last code");
        for (long b = at; b < end; b++)
            if (((bits[(int)(b >> 3)] >> (7 - (int)(b & 7))) & 1) != 0) throw new FormatException($"{what} has non-zero padding bits");
        return symbols;
    }
}
