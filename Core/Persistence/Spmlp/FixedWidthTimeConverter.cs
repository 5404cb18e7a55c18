using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>
/// Times in a .spmlp file's metadata (history steps, baseline, save time) in UTC with all seven
/// digits of their fraction: the default writer drops trailing zeros, so two models that differ
/// only in when their steps ran had files of different lengths, and a plain (version 2) file's
/// length, which the compression report states, changed from run to run. Reads any ISO 8601
/// time, as files written before this did hold.
/// </summary>
internal sealed class FixedWidthTimeConverter : JsonConverter<DateTime>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTime();

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        // A time without a kind is taken as UTC, as every time SparsePrune records is.
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        writer.WriteStringValue(utc.ToString(Format, CultureInfo.InvariantCulture));
    }
}
