using System.Globalization;
using System.Text.Json;

namespace SparsePrune;

/// <summary>
/// The JSON of sweep points and results: plain values written so that they read back as the
/// same values (doubles in round-trip form, whole numbers as integers), and parse errors turned
/// into the module's own exception.
/// </summary>
internal static class SweepJson
{
    public static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            // A double keeps a decimal point or exponent ("1.0"), so it reads back as a double, not an integer.
            case double d when double.IsFinite(d):
                var text = d.ToString("R", CultureInfo.InvariantCulture);
                w.WriteRawValue(text.Contains('.') || text.Contains('E') ? text : text + ".0");
                break;
            case double d: w.WriteStringValue(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case object?[] items:
                w.WriteStartArray();
                foreach (var item in items) WriteValue(w, item);
                w.WriteEndArray();
                break;
            default: throw new ArgumentException($"a sweep parameter value must be text, a number, a boolean or an array of those, not {value.GetType().Name}");
        }
    }

    public static object? ReadValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => ReadNumber(e),
        JsonValueKind.Array => e.EnumerateArray().Select(ReadValue).ToArray(),
        _ => throw new FormatException($"a parameter value is a JSON {e.ValueKind}"),
    };

    private static object ReadNumber(JsonElement e)
    {
        var raw = e.GetRawText();
        bool whole = raw.IndexOfAny(new[] { '.', 'e', 'E' }) < 0;
        if (whole && e.TryGetInt32(out var i)) return i;
        if (whole && e.TryGetInt64(out var l)) return l;
        return e.GetDouble();
    }

    public static JsonDocument Parse(string json, string what)
    {
        try { return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException x)
        {
            throw SparsePruneException.BadData("CorruptSweepResult", $"{char.ToUpperInvariant(what[0])}{what[1..]} is not valid JSON: {x.Message}");
        }
    }
}
