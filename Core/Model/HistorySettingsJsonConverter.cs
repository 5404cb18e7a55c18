using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>
/// <see cref="HistorySettings"/> in a file: a JSON object in the settings' order, numbers as
/// numbers, booleans as booleans, enums and text as strings, lists as arrays. Reading types the
/// values back: a whole number as int (long when larger), any other number as double, an array
/// of whole numbers as int[], of numbers as double[], of anything else as string[]. An enum comes
/// back as its name (the file does not say which enum it was).
/// </summary>
internal sealed class HistorySettingsJsonConverter : JsonConverter<HistorySettings>
{
    public override HistorySettings Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("The settings of a history record are not a JSON object.");
        var settings = new HistorySettings();
        foreach (var p in doc.RootElement.EnumerateObject()) settings.Add(p.Name, Value(p.Value));
        return settings;
    }

    private static object? Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => Number(e),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Array when e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number) is var numbers && numbers
            && e.EnumerateArray().All(x => x.TryGetInt32(out _)) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        JsonValueKind.Array when e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray(),
        JsonValueKind.Array => e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToArray(),
        _ => e.GetRawText(),
    };

    private static object Number(JsonElement e)
    {
        var raw = e.GetRawText();
        bool whole = !raw.Contains('.') && !raw.Contains('e') && !raw.Contains('E');
        if (whole && e.TryGetInt32(out var i)) return i;
        if (whole && e.TryGetInt64(out var l)) return l;
        return e.GetDouble();
    }

    public override void Write(Utf8JsonWriter writer, HistorySettings value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, v) in value)
        {
            writer.WritePropertyName(name);
            WriteValue(writer, v);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? v)
    {
        switch (v)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            // NaN and infinities have no JSON number: their text, as the settings line has it.
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case string or Enum: writer.WriteStringValue(HistorySettings.Text(v)); break;
            case System.Collections.IEnumerable list:
                writer.WriteStartArray();
                foreach (var x in list) WriteValue(writer, x);
                writer.WriteEndArray();
                break;
            default: writer.WriteStringValue(HistorySettings.Text(v)); break;
        }
    }
}
