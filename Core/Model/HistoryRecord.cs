namespace SparsePrune;

/// <summary>One operation on a model: what, when, with which parameters, and its effect.</summary>
public sealed record HistoryRecord
{
    [System.Text.Json.Serialization.JsonInclude]
    public int Step { get; internal set; }
    public string Operation { get; init; } = "";
    public DateTime Time { get; init; } = DateTime.UtcNow;
    /// <summary>The operation's parameters as one line, <c>Name=Value</c> pairs separated by spaces.</summary>
    public string Parameters { get; init; } = "";

    /// <summary>
    /// <see cref="Parameters"/> as a dictionary a script can read (<c>$record.ParameterValues.Ratio</c>),
    /// names in their order; values stay text. A value holding spaces (a data set's name) is
    /// kept whole: a word without '=' belongs to the value before it.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<string, string> ParameterValues
    {
        get
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? last = null;
            foreach (var word in Parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = word.IndexOf('=');
                if (eq > 0) values[last = word[..eq]] = word[(eq + 1)..];
                else if (last is not null) values[last] += " " + word;
            }
            return values;
        }
    }
    public long WeightsBefore { get; init; }
    public long NonZeroBefore { get; init; }
    public long WeightsAfter { get; init; }
    public long NonZeroAfter { get; init; }
    public string? MetricName { get; init; }
    public double? Metric { get; init; }
    public string? Note { get; init; }
    public override string ToString() => $"{Step}. {Operation} {Parameters}: weights {WeightsBefore}->{WeightsAfter}, non-zero {NonZeroBefore}->{NonZeroAfter}";
}
