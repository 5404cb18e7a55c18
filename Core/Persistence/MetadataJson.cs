using System.Text.Json;

namespace SparsePrune;

/// <summary>The JSON arrays model files keep in their string metadata (class and feature names, widths).</summary>
internal static class MetadataJson
{
    /// <summary>The array <paramref name="json"/> holds, or null when it is not a JSON array of non-null <typeparamref name="T"/>.</summary>
    public static T[]? Array<T>(string json)
    {
        try
        {
            var values = JsonSerializer.Deserialize<T[]>(json);
            return values is null || values.Any(v => v is null) ? null : values;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What a metadata entry should have held, for the reader's CorruptModelFile message.</summary>
    public static string Expected<T>(string key) => $"its metadata entry '{key}' is not a JSON array of {(typeof(T) == typeof(int) ? "integers" : "strings")}";
}
