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
internal static class SpmlpV2
{
    public const int Header = 24, Hash = 32;

    public sealed record PositionList(int Count, int Bits, long Codes, int StreamOffset, int StreamLength, int[] Positions);

    /// <summary>
    /// A version-3 quantized section: where it starts (the method byte), its codebook or grid
    /// (offset and bytes), where the coder byte, the length and the coded stream are.
    /// </summary>
    public sealed record Quantized(int Offset, int Method, int Bits, int Levels, int ParametersOffset, int ParameterBytes,
        int CoderOffset, int Coder, int StreamOffset, int StreamLength);

    public sealed record Layer(int Out, int In, byte Flags, PositionList? Present, int ValuesOffset, int ValuesLength,
        int BiasOffset, PositionList? Masked, int HiddenOffset, Quantized? Quantization = null)
    {
        /// <summary>Values (or codebook/grid + coded codes) + position code stream + biases: what StoredBytes counts.</summary>
        public long WeightBytes => (Quantization is { } q ? q.ParameterBytes + q.StreamLength : ValuesLength) + (Present?.StreamLength ?? 0) + 4L * Out;
    }

    public sealed record File(int MetadataLength, Layer[] Layers);

    public static File Parse(byte[] file)
    {
        int version = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        Assert.InRange(version, 2, 3);
        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(12));
        Assert.Equal(file.Length, Header + length + Hash);
        int at = Header;
        int I32() { var v = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at)); at += 4; return v; }
        int meta = I32();
        at += meta;
        for (int k = 0; k < 2; k++) { int n = I32(); if (n > 0) at += 4 * n; }
        int count = I32();
        var layers = new Layer[count];
        for (int i = 0; i < count; i++)
        {
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
            layers[i] = new Layer(outF, inF, flags, present, values, valuesLength, bias, masked, hidden, quantized);
        }
        Assert.Equal(file.Length - Hash, at);
        return new File(meta, layers);
    }

    private static PositionList List(byte[] file, ref int at, long limit)
    {
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
        int bits = file[at + 4];
        long codes = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 5));
        at += 9;
        int bytes = (int)((codes * bits + 7) / 8);
        var positions = new List<int>();
        long position = -1, max = (1L << bits) - 1;
        for (long c = 0; c < codes; c++)
        {
            long code = 0;
            for (int b = 0; b < bits; b++)
            {
                long bit = c * bits + b;
                if ((file[at + bit / 8] >> (int)(bit % 8) & 1) != 0) code |= 1L << b;
            }
            if (code == 0) position += max;
            else positions.Add((int)(position += code));
        }
        Assert.Equal(count, positions.Count);
        Assert.True(positions.Count == 0 || positions[^1] < limit);
        var list = new PositionList(count, bits, codes, at, bytes, positions.ToArray());
        at += bytes;
        return list;
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
