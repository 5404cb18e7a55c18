namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// The fields and sections of a protobuf message (an ONNX ModelProto), found from its wire
/// format alone: every varint (ir_version, dims, data_type, the lengths of strings, bytes and
/// nested messages) and fixed-width number is a field to lie about, every length-delimited
/// field a section to move. A bytes field whose content happens to parse as a message is
/// walked too: harmless, its "fields" are then just bytes to mutate.
/// </summary>
internal static class ProtobufLayout
{
    private const int MaxDepth = 8;

    public static FuzzSeed Seed(string name, byte[] message)
    {
        var fields = new List<FuzzField>();
        var sections = new List<(int, int)>();
        if (!Walk(message, 0, message.Length, 0, fields, sections))
            throw new ArgumentException($"{name} is not a protobuf message", nameof(message));
        return new FuzzSeed(name, message, fields, sections);
    }

    /// <summary>Adds the fields and sections of [start, end) when all of it parses as a message; false (adding nothing) otherwise.</summary>
    private static bool Walk(byte[] b, int start, int end, int depth, List<FuzzField> fields, List<(int, int)> sections)
    {
        var ownFields = new List<FuzzField>();
        var ownSections = new List<(int, int)>();
        int at = start;
        while (at < end)
        {
            int tagAt = at;
            if (!Varint(b, ref at, end, out var tag) || tag >> 3 == 0) return false;
            switch (tag & 7)
            {
                case 0:
                    ownFields.Add(FuzzField.VarintAt(at));
                    if (!Varint(b, ref at, end, out _)) return false;
                    break;
                case 1:
                    if (end - at < 8) return false;
                    ownFields.Add(new FuzzField(at, 8));
                    at += 8;
                    break;
                case 5:
                    if (end - at < 4) return false;
                    ownFields.Add(new FuzzField(at, 4));
                    at += 4;
                    break;
                case 2:
                {
                    int lengthAt = at;
                    if (!Varint(b, ref at, end, out var length) || length > (ulong)(end - at)) return false;
                    ownFields.Add(FuzzField.VarintAt(lengthAt));
                    ownSections.Add((tagAt, at + (int)length - tagAt));
                    if (depth < MaxDepth && length > 0) Walk(b, at, at + (int)length, depth + 1, ownFields, ownSections);
                    at += (int)length;
                    break;
                }
                default:
                    return false;
            }
        }
        fields.AddRange(ownFields);
        sections.AddRange(ownSections);
        return true;
    }

    private static bool Varint(byte[] b, ref int at, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < end; shift += 7)
        {
            byte x = b[at++];
            value |= (ulong)(x & 0x7F) << shift;
            if ((x & 0x80) == 0) return true;
        }
        return false;
    }
}
