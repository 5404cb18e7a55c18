using System.Text.Json.Serialization;

namespace SparsePrune;

/// <summary>One operation on a model: what, when, with which settings, and its effect.</summary>
public sealed record HistoryRecord : IJsonOnDeserialized
{
    private HistorySettings _settings = HistorySettings.Empty;
    private string? _line;

    [JsonInclude]
    public int Step { get; internal set; }
    public string Operation { get; init; } = "";
    public DateTime Time { get; init; } = DateTime.UtcNow;

    /// <summary>
    /// The operation's settings, typed and in order (<c>$record.Settings.Ratio</c> is the double
    /// 0.9); written to a line, <c>Ratio=0.9 Scope=Layer</c>, by its ToString.
    /// </summary>
    [JsonIgnore]
    public HistorySettings Settings { get => _settings; init => _settings = value; }

    /// <summary>
    /// The settings in a file: their line, under the key "Parameters" that every release's
    /// reader reads, parsed back into typed settings once, on reading (<see cref="HistorySettings.Parse"/>).
    /// Why not a JSON object of typed values: the line is what earlier releases read and show,
    /// and an object beside it (or instead) makes the metadata of a small model grow past its
    /// bound (about 250 bytes for two records) for no value the parse does not give back, bar
    /// enums, which a file could only keep as their names either way.
    /// </summary>
    [JsonInclude, JsonPropertyName("Parameters")]
    internal string SettingsLine { get => _settings.ToString(); init => _line = value; }

    void IJsonOnDeserialized.OnDeserialized()
    {
        _settings = HistorySettings.Parse(_line);
        _line = null;
    }

    public long WeightsBefore { get; init; }
    public long NonZeroBefore { get; init; }
    public long WeightsAfter { get; init; }
    public long NonZeroAfter { get; init; }
    public string? MetricName { get; init; }
    public double? Metric { get; init; }
    public string? Note { get; init; }
    public override string ToString() => $"{Step}. {Operation} {Settings}: weights {WeightsBefore}->{WeightsAfter}, non-zero {NonZeroBefore}->{NonZeroAfter}";
}
