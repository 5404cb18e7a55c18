using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// An independent reader of the .spmlp version 2 and 3 layouts (SpmlpFormat's doc comment),
/// written from the format description alone: the tests use it to find sections, to decode
/// position lists without the serializer's code and to count the bytes a layer's weights take.
/// </summary>
internal static class SpmlpReferenceReader
{
    public const int Header = 24, Hash = 32;

    /// <summary>A position list: where it starts (its count), its width and coder (0: packed), its stream and what it lists.</summary>
    public sealed record PositionList(int Count, int Bits, long Codes, int StreamOffset, int StreamLength, int[] Positions, int Start = 0, int Coder = 0);

    /// <summary>
    /// A version-3 quantized section: where it starts (the method byte), its codebook or grid
    /// (offset and bytes), where the coder byte, the length and the coded stream are.
    /// </summary>
    public sealed record Quantized(int Offset, int Method, int Bits, int Levels, int ParametersOffset, int ParameterBytes,
        int CoderOffset, int Coder, int StreamOffset, int StreamLength);

    /// <summary>A layer section; <paramref name="Start"/> is where it starts (its out field), <paramref name="End"/> where the next one does.</summary>
    public sealed record Layer(int Out, int In, byte Flags, PositionList? Present, int ValuesOffset, int ValuesLength,
        int BiasOffset, PositionList? Masked, int HiddenOffset, Quantized? Quantization = null, int Start = 0, int End = 0)
    {
        /// <summary>Values (or codebook/grid + coded codes) + position code stream + biases: what StoredBytes counts.</summary>
        public long WeightBytes => (Quantization is { } q ? q.ParameterBytes + q.StreamLength : ValuesLength) + (Present?.StreamLength ?? 0) + 4L * Out;
    }

    /// <summary>
    /// <paramref name="MetadataLength"/>: the bytes the metadata takes in the file (compressed,
    /// the preamble's Brotli stream with the input normalization); <paramref name="MetadataJson"/> the JSON.
    /// </summary>
    public sealed record File(int MetadataLength, Layer[] Layers, string MetadataJson = "", bool CompressedPreamble = false);

    public static File Parse(byte[] file)
    {
        int version = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        Assert.InRange(version, 2, 3);
        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(12));
        Assert.Equal(file.Length, Header + length + Hash);
        int at = Header;
        int I32() { var v = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at)); at += 4; return v; }
        int meta = I32();
        string json;
        bool compressed = meta < 0;
        if (compressed)
        {
            // Version 3: −(Brotli bytes), the decoded length, then the stream of the plain preamble.
            Assert.Equal(3, version);
            meta = -meta;
            int plainLength = I32();
            using var brotli = new System.IO.Compression.BrotliStream(new MemoryStream(file, at, meta), System.IO.Compression.CompressionMode.Decompress);
            using var plain = new MemoryStream();
            brotli.CopyTo(plain);
            var p = plain.ToArray();
            Assert.Equal(plainLength, p.Length);
            int jsonLength = BinaryPrimitives.ReadInt32LittleEndian(p);
            json = Encoding.UTF8.GetString(p, 4, jsonLength);
            int inner = 4 + jsonLength;
            for (int k = 0; k < 2; k++) { int n = BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(inner)); inner += 4 + Math.Max(0, 4 * n); }
            Assert.Equal(p.Length, inner);
            at += meta;
        }
        else
        {
            json = Encoding.UTF8.GetString(file, at, meta);
            at += meta;
            for (int k = 0; k < 2; k++) { int n = I32(); if (n > 0) at += 4 * n; }
        }
        int count = I32();
        var layers = new Layer[count];
        for (int i = 0; i < count; i++)
        {
            int layerStart = at;
            int outF = I32(), inF = I32();
            byte flags = file[at++];
            long n = (long)outF * inF;
            PositionList? present = null, masked = null;
            Quantized? quantized = null;
            Assert.True(version == 3 || (flags & 4) == 0);
            int values = at, valuesLength;
            if ((flags & 2) != 0)
            {
                present = List(file, ref at, n);
                values = at;
                valuesLength = 4 * present.Count;
            }
            else valuesLength = checked((int)(4 * n));
            if ((flags & 4) != 0)
            {
                int start = at, method = file[at], bits = file[at + 1];
                at += 2;
                int levels = 0, parameters;
                if (method == 0) { levels = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at)); at += 2; parameters = 4 * levels; }
                else parameters = 5 * outF;
                int parametersAt = at;
                at += parameters;
                int coder = file[at], streamLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 1));
                quantized = new Quantized(start, method, bits, levels, parametersAt, parameters, at, coder, at + 5, streamLength);
                values = at + 5 + streamLength;
                valuesLength = 0;
            }
            at = values + valuesLength;
            int bias = at;
            at += 4 * outF;
            int hidden = -1;
            if ((flags & 1) != 0)
            {
                masked = List(file, ref at, n);
                hidden = at;
                at += 4 * masked.Count;
            }
            layers[i] = new Layer(outF, inF, flags, present, values, valuesLength, bias, masked, hidden, quantized, layerStart, at);
        }
        Assert.Equal(file.Length - Hash, at);
        return new File(meta, layers, json, compressed);
    }

    private static PositionList List(byte[] file, ref int at, long limit)
    {
        int start = at;
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
        int width = file[at + 4], bits = width & 0x1F, coder = width >> 5;
        long codes = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 5));
        at += 9;
        int bytes;
        long[] symbols;
        if (coder == 0)
        {
            bytes = (int)((codes * bits + 7) / 8);
            symbols = new long[codes];
            for (long c = 0; c < codes; c++)
                for (int b = 0; b < bits; b++)
                {
                    long bit = c * bits + b;
                    if ((file[at + bit / 8] >> (int)(bit % 8) & 1) != 0) symbols[c] |= 1L << b;
                }
        }
        else
        {
            // Version 3, entropy-coded: the stream's length, then the codes as symbols of 0..2^bits − 1.
            bytes = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
            at += 4;
            symbols = Symbols(file.AsSpan(at, bytes).ToArray(), coder, codes, 1 << bits);
        }
        var positions = new List<int>();
        long position = -1, max = (1L << bits) - 1;
        foreach (var code in symbols)
        {
            if (code == 0) position += max;
            else positions.Add((int)(position += code));
        }
        Assert.Equal(count, positions.Count);
        Assert.True(positions.Count == 0 || positions[^1] < limit);
        var list = new PositionList(count, bits, codes, at, bytes, positions.ToArray(), start, coder);
        at += bytes;
        return list;
    }

    /// <summary>
    /// <paramref name="count"/> symbols of an entropy-coded stream: coder 1 canonical Huffman (the
    /// alphabet's code lengths, then the codes MSB first), 2 Deflate and 3 Brotli (a byte a symbol).
    /// </summary>
    public static long[] Symbols(byte[] stream, int coder, long count, int alphabet)
    {
        if (coder != 1)
        {
            using Stream decoder = coder == 2
                ? new System.IO.Compression.DeflateStream(new MemoryStream(stream), System.IO.Compression.CompressionMode.Decompress)
                : new System.IO.Compression.BrotliStream(new MemoryStream(stream), System.IO.Compression.CompressionMode.Decompress);
            using var plain = new MemoryStream();
            decoder.CopyTo(plain);
            Assert.Equal(count, plain.Length);
            return plain.ToArray().Select(b => (long)b).ToArray();
        }
        // Canonical Huffman by brute force: assign codes by (length, symbol), then match bit strings.
        var lengths = stream.Take(alphabet).ToArray();
        var table = new Dictionary<string, long>();
        long next = 0;
        int previous = 0;
        foreach (var s in Enumerable.Range(0, alphabet).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s))
        {
            next <<= lengths[s] - previous;
            previous = lengths[s];
            table[Convert.ToString(next, 2).PadLeft(lengths[s], '0')] = s;
            next++;
        }
        var result = new long[count];
        var bitsRead = new StringBuilder();
        long at = 8L * alphabet, k = 0;
        while (k < count)
        {
            bitsRead.Append((stream[at >> 3] >> (7 - (int)(at & 7)) & 1) != 0 ? '1' : '0');
            at++;
            if (table.TryGetValue(bitsRead.ToString(), out var symbol)) { result[k++] = symbol; bitsRead.Clear(); }
        }
        return result;
    }

    /// <summary>
    /// The weight bytes of a layer by the format's rule, computed by brute force: dense, 4 per
    /// weight and bias; sparse, 4 per present weight and bias plus the smallest code stream over
    /// every width from 1 to 16 bits (a gap g at width b takes ceil(g / (2^b − 1)) codes).
    /// </summary>
    public static long ExpectedWeightBytes(int outF, int inF, bool[]? deleted)
    {
        if (deleted is null) return 4L * ((long)outF * inF + outF);
        var present = Enumerable.Range(0, deleted.Length).Where(k => !deleted[k]).ToArray();
        long best = long.MaxValue;
        for (int bits = 1; bits <= 16; bits++)
        {
            long max = (1L << bits) - 1, codes = 0, previous = -1;
            foreach (var p in present) { codes += (p - previous + max - 1) / max; previous = p; }
            best = Math.Min(best, (codes * bits + 7) / 8);
        }
        return best + 4L * present.Length + 4L * outF;
    }

    /// <summary>
    /// Replaces <paramref name="remove"/> bytes at <paramref name="at"/> with <paramref name="insert"/>,
    /// then fixes the header's payload length and the sha256: a file that lies only where the test wants.
    /// </summary>
    public static byte[] Splice(byte[] file, int at, int remove, byte[] insert)
    {
        var copy = file.Take(at).Concat(insert).Concat(file.Skip(at + remove)).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(12), (ulong)(copy.Length - Header - Hash));
        return Rehash(copy);
    }

    /// <summary>Gives the payload a valid sha256 again after a test changed it.</summary>
    public static byte[] Rehash(byte[] file)
    {
        var copy = file.ToArray();
        SHA256.HashData(copy.AsSpan(Header, copy.Length - Header - Hash)).CopyTo(copy, copy.Length - Hash);
        return copy;
    }
}
