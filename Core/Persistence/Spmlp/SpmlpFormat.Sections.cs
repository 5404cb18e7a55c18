using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace SparsePrune;

/// <summary>The sections every layout shares: the preamble (metadata and input normalization) and the position lists.</summary>
public static partial class SpmlpFormat
{
    /// <summary>The most bytes a version-3 compressed preamble may decode to.</summary>
    private const int MaxPreambleBytes = 64 << 20;
    /// <summary>Position list width byte: the low bits hold the code width, the high three the coder (0: packed).</summary>
    private const int WidthMask = 0x1F, CoderShift = 5;

    /// <summary>
    /// The metadata and the input normalization: as they are (version 2), or in version 3
    /// Brotli-compressed when that is smaller. The JSON compresses to about a third (the history
    /// most of it: about 700 B of a LeNet-300-100 file trained on IDX data, which names no
    /// features); the 784 float32 offsets and 784 scales hardly at all (5.6 KB), which is why
    /// Optimize-Mlp -FoldInputScaling folds them into layer 0 (offsets 0 and scales 1 compress to
    /// nothing).
    /// </summary>
    private static void WritePreamble(BinaryWriter w, Mlp model, bool compress, DateTime? saved)
    {
        var meta = JsonSerializer.SerializeToUtf8Bytes(SpmlpMetadata.From(model, saved), Json);
        using var plain = new MemoryStream();
        using (var p = new BinaryWriter(plain, Encoding.UTF8, leaveOpen: true))
        {
            p.Write(meta.Length);
            p.Write(meta);
            WriteOptionalFloats(p, model.FeatureOffset);
            WriteOptionalFloats(p, model.FeatureScale);
        }
        var bytes = plain.ToArray();
        if (compress && bytes.Length <= MaxPreambleBytes)
        {
            var packed = new byte[BrotliEncoder.GetMaxCompressedLength(bytes.Length)];
            if (BrotliEncoder.TryCompress(bytes, packed, out int written, 11, 24) && written + 8 < bytes.Length)
            {
                w.Write(-written);
                w.Write((uint)bytes.Length);
                w.Write(packed, 0, written);
                return;
            }
        }
        w.Write(bytes);
    }

    private static (SpmlpMetadata Meta, float[]? Offset, float[]? Scale) ReadPreamble(SpmlpCursor r, ushort version)
    {
        int count = r.Int32();
        if (count < 0 && version >= 3)
        {
            long length = r.UInt32();
            if (length > MaxPreambleBytes) throw new FormatException($"the compressed metadata announces {length} bytes; at most {MaxPreambleBytes}");
            var plain = Inflate(r.Bytes(-(long)count, "the compressed metadata"), length, "the compressed metadata");
            var inner = new SpmlpCursor(plain);
            var result = ReadPlainPreamble(inner, inner.Count("the metadata"));
            if (inner.Remaining != 0) throw new FormatException($"the compressed metadata has {inner.Remaining} bytes after the input normalization");
            return result;
        }
        if (count < 0) throw new FormatException($"the metadata is {count} bytes");
        return ReadPlainPreamble(r, count);
    }

    private static (SpmlpMetadata, float[]?, float[]?) ReadPlainPreamble(SpmlpCursor r, int metaBytes)
    {
        var meta = JsonSerializer.Deserialize<SpmlpMetadata>(r.Bytes(metaBytes, "the metadata"), Json) ?? throw new FormatException("no metadata");
        var offset = ReadOptionalFloats(r, "the input offsets");
        var scale = ReadOptionalFloats(r, "the input scales");
        return (meta, offset, scale);
    }

    /// <summary>Exactly <paramref name="length"/> bytes from a Brotli stream; memory grows with what really decodes, never past the length.</summary>
    private static byte[] Inflate(ReadOnlySpan<byte> stream, long length, string what)
    {
        try
        {
            using var input = new MemoryStream(stream.ToArray(), writable: false);
            using var brotli = new BrotliStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = brotli.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + n > length) throw new FormatException($"{what} decodes to more than the {length} bytes it announces");
                output.Write(buffer, 0, n);
            }
            if (output.Length != length) throw new FormatException($"{what} decodes to {output.Length} bytes, it announces {length}");
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new FormatException($"{what} is not a valid Brotli stream: {e.Message}", e);
        }
    }

    /// <summary>
    /// A position list: count uint32, width byte (the code width, and in version 3 the coder in
    /// the high three bits), codes uint32, in version 3 with a coder the stream's length uint32,
    /// then the stream (see <see cref="PositionStream"/>).
    /// </summary>
    private static void WritePositions(BinaryWriter w, int[] positions, bool coded)
    {
        var list = PositionStream.Choose(positions, coded);
        w.Write((uint)positions.Length);
        w.Write((byte)(list.Coding.Bits | ((int)(list.Coder ?? 0) << CoderShift)));
        w.Write((uint)list.Coding.Codes);
        if (list.Coder is not null) w.Write((uint)list.Stream.Length);
        w.Write(list.Stream);
    }

    private static int[] ReadPositions(SpmlpCursor r, long limit, string what, ushort version)
    {
        long count = r.UInt32();
        int width = r.Byte();
        long codes = r.UInt32();
        int bits = width & WidthMask, coder = width >> CoderShift;
        if (count > limit) throw new FormatException($"{what} announces {count} positions in a layer of {limit} weights");
        if (bits < PositionCoding.MinBits || bits > PositionCoding.MaxBits) throw new FormatException($"{what} has a code width of {bits} bits; widths run from {PositionCoding.MinBits} to {PositionCoding.MaxBits}");
        if (coder != 0 && version < 3) throw new FormatException($"{what} names coder {coder}; version {version} files pack their positions");
        if (coder > (int)CodeCoder.Brotli) throw new FormatException($"{what} names an unknown coder {coder}");
        var coding = new PositionCoding(bits, codes);
        var stream = r.Bytes(coder == 0 ? coding.StreamBytes : r.UInt32(), what);
        return new PositionStream(coding, coder == 0 ? null : (CodeCoder)coder, stream.ToArray()).Decode(count, limit, what);
    }

    private static bool[] ReadBits(SpmlpCursor r, long count, string what)
    {
        var packed = r.Bytes((count + 7) / 8, what);
        var bits = new bool[count];
        for (long i = 0; i < count; i++) bits[i] = (packed[(int)(i >> 3)] & (1 << (int)(i & 7))) != 0;
        return bits;
    }
}
