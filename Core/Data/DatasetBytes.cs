using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SparsePrune;

/// <summary>
/// A data set as bytes, exactly (every float bit-identical), so that a sweep's worker processes
/// and remote hosts train and evaluate on the very rows the session has: magic, a JSON header
/// (names, task, normalization, row counts), then the float32 arrays little-endian. The reader
/// checks every length against the bytes it was given before it allocates.
/// </summary>
public static class DatasetBytes
{
    private static readonly byte[] Magic = "SPDSET1\n"u8.ToArray();
    private const int MaxHeaderBytes = 64 << 20;

    private sealed record Header(string Name, string Task, string[] Features, string[] Classes, string Normalization, string? Source, int Train, int Test,
        bool Positional = false);

    public static byte[] ToBytes(Dataset data)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(data.Name, data.Task.ToString(), data.FeatureNames.ToArray(), data.ClassNames.ToArray(),
            data.Normalization.ToString(), data.Source, data.TrainCount, data.TestCount, !data.HasFeatureNames));
        using var buffer = new MemoryStream();
        buffer.Write(Magic);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
        buffer.Write(length);
        buffer.Write(header);
        foreach (var array in new[] { data.Offset, data.Scale, data.TrainX, data.TrainY, data.TestX, data.TestY })
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("data set bytes are written on little-endian machines only");
            buffer.Write(MemoryMarshal.AsBytes(array.AsSpan()));
        }
        return buffer.ToArray();
    }

    public static Dataset FromBytes(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (!span.StartsWith(Magic) || span.Length < Magic.Length + 4) throw Corrupt("it does not start with the data set magic");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(span[Magic.Length..]);
        int start = Magic.Length + 4;
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > span.Length - start) throw Corrupt($"its header length {headerLength} does not fit the {span.Length} bytes");
        Header? h;
        try { h = JsonSerializer.Deserialize<Header>(span.Slice(start, headerLength)); }
        catch (JsonException e) { throw Corrupt("its header is not the expected JSON: " + e.Message); }
        if (h is null || h.Name is null || h.Features is null || h.Classes is null || h.Features.Any(f => f is null) || h.Classes.Any(c => c is null))
            throw Corrupt("its header lacks names");
        if (!Enum.TryParse<TaskKind>(h.Task, out var task) || !Enum.TryParse<Normalization>(h.Normalization, out var normalization))
            throw Corrupt($"its task '{h.Task}' or normalization '{h.Normalization}' is unknown");
        long f = h.Features.Length;
        if (f == 0 || h.Train < 0 || h.Test < 0) throw Corrupt("its row or feature counts are not positive");
        long[] lengths = { f, f, h.Train * f, h.Train, h.Test * f, h.Test };
        long floats = lengths.Sum();
        int body = start + headerLength;
        if (floats * 4 != span.Length - body) throw Corrupt($"its header announces {floats} float values, but {span.Length - body} bytes follow it");
        var arrays = new float[lengths.Length][];
        int at = body;
        for (int i = 0; i < lengths.Length; i++)
        {
            arrays[i] = MemoryMarshal.Cast<byte, float>(span.Slice(at, (int)(lengths[i] * 4))).ToArray();
            at += (int)(lengths[i] * 4);
        }
        return new Dataset(h.Name, task, h.Features, h.Classes, arrays[2], arrays[3], arrays[4], arrays[5], normalization, arrays[0], arrays[1], h.Source)
            { HasFeatureNames = !h.Positional };
    }

    private static SparsePruneException Corrupt(string why) => SparsePruneException.BadData("CorruptDatasetBytes", $"The data set bytes are damaged: {why}.");
}
