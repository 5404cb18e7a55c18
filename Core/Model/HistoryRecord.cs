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
    public HistorySettings Settings { get => _settings; init => _settings = value; }

    /// <summary>
    /// The settings line, in files only: the key "Parameters" is what the readers of releases
    /// before typed settings read (they ignore "Settings"), and all that their files hold.
    /// </summary>
    [JsonInclude, JsonPropertyName("Parameters")]
    internal string SettingsLine { get => _settings.ToString(); init => _line = value; }

    /// <summary>A file from before typed settings has the line only: its settings are parsed from it, once.</summary>
    void IJsonOnDeserialized.OnDeserialized()
    {
        if (_settings.Count == 0 && !string.IsNullOrWhiteSpace(_line)) _settings = HistorySettings.Parse(_line);
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
