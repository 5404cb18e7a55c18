using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The SafeTensors tests' own reader and writer of the format, written from the standard layout
/// (not from SafeTensorsFormat): headers parsed and built, files edited, so that the writer's files
/// are checked against the standard rather than against themselves.
/// </summary>
public static class SafeTensorsReferenceFile
{
    internal sealed record Tensor(string Name, string DType, long[] Shape, long Begin, long End);

    internal sealed record Parsed(long HeaderLength, string HeaderText, List<string> Keys, List<Tensor> Tensors, Dictionary<string, string> Meta, byte[] Data)
    {
        public Tensor this[string name] => Tensors.Single(t => t.Name == name);

        public float[] Values(string name)
        {
            var t = this[name];
            var v = new float[(t.End - t.Begin) / 4];
            for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan((int)t.Begin + 4 * i, 4));
            return v;
        }
    }

    internal static Parsed Parse(byte[] file)
    {
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.InRange(n, 2, file.Length - 8);
        var text = Encoding.UTF8.GetString(file, 8, (int)n);
        using var doc = JsonDocument.Parse(text);
        var keys = new List<string>();
        var tensors = new List<Tensor>();
        var meta = new Dictionary<string, string>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            keys.Add(p.Name);
            if (p.Name == "__metadata__")
            {
                foreach (var m in p.Value.EnumerateObject()) meta.Add(m.Name, m.Value.GetString()!);
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(2, offsets.Length);
            tensors.Add(new Tensor(p.Name, p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), offsets[0], offsets[1]));
        }
        return new Parsed(n, text, keys, tensors, meta, file.AsSpan(8 + (int)n).ToArray());
    }

    /// <summary>A SafeTensors file from a header (a JSON object, written as given) and the data.</summary>
    internal static byte[] Build(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        int padded = (h.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        h.CopyTo(file, 8);
        for (int i = 8 + h.Length; i < 8 + padded; i++) file[i] = (byte)' ';
        data.CopyTo(file, 8 + padded);
        return file;
    }

    /// <summary>A file with the given tensors (laid out contiguously in this order) and metadata.</summary>
    internal static byte[] Build(IEnumerable<(string Name, long[] Shape, float[] Values)> tensors, Dictionary<string, string>? meta = null, string dtype = "F32")
    {
        var header = new JsonObject();
        if (meta is not null)
        {
            var m = new JsonObject();
            foreach (var (k, v) in meta) m[k] = v;
            header["__metadata__"] = m;
        }
        using var data = new MemoryStream();
        foreach (var (name, shape, values) in tensors)
        {
            long begin = data.Length;
            foreach (var v in values) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); data.Write(b); }
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(begin), JsonValue.Create(data.Length)),
            };
        }
        return Build(header.ToJsonString(), data.ToArray());
    }

    /// <summary>The same file with its header changed by <paramref name="edit"/> (data untouched).</summary>
    internal static byte[] EditHeader(byte[] file, Action<JsonObject> edit)
    {
        var p = Parse(file);
        var header = JsonNode.Parse(p.HeaderText)!.AsObject();
        edit(header);
        return Build(header.ToJsonString(), p.Data);
    }

    internal static float[] Floats(int count, int seed) => TestKit.RandomRows(1, count, seed);
}
