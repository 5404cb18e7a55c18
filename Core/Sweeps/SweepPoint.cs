using System.Text;
using System.Text.Json;

namespace SparsePrune;

/// <summary>
/// One point of a sweep: its number in the whole grid, the settings of its pruning and
/// quantization steps, an optional script (PowerShell text, run on the model copy afterwards),
/// and its seed. Travels as JSON (<see cref="ToJson"/>), so a point means the same to a worker
/// process, a remote host and a shard as to the session that expanded the grid.
/// </summary>
public sealed class SweepPoint
{
    public int Index { get; init; }
    public int Seed { get; init; }
    /// <summary>
    /// The point's settings: each a cmdlet parameter of its step and the value it binds. (Not
    /// "Parameters": on SparsePrune's objects that is always a count of weights plus biases.)
    /// Files keep them under "parameters", as they always did.
    /// </summary>
    public IReadOnlyList<SweepParameter> Settings { get; init; } = Array.Empty<SweepParameter>();
    /// <summary>PowerShell text of a scriptblock point (the model copy is $_, the data set $Dataset).</summary>
    public string? Script { get; init; }

    /// <summary>The parameters of one step, as cmdlet parameter names and values (for splatting).</summary>
    public IEnumerable<SweepParameter> For(SweepStep step) => Settings.Where(p => p.Step == step);

    /// <summary>"Ratio=0.8; Structure=Neuron; Bits=3" (and "Script={...}"): the point as one line.</summary>
    public string Describe()
    {
        var parts = Settings.Select(p => p.ToString()).ToList();
        if (Script is not null) parts.Add("Script={" + Script.Trim() + "}");
        return string.Join("; ", parts);
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("index", Index);
            w.WriteNumber("seed", Seed);
            w.WriteStartArray("parameters");
            foreach (var p in Settings)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("step", p.Step.ToString());
                w.WriteString("binds", p.Binds);
                w.WritePropertyName("value");
                SweepJson.WriteValue(w, p.Value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (Script is not null) w.WriteString("script", Script);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static SweepPoint FromJson(string json)
    {
        using var doc = SweepJson.Parse(json, "a sweep point");
        return FromJson(doc.RootElement);
    }

    internal static SweepPoint FromJson(JsonElement e)
    {
        try
        {
            var parameters = e.GetProperty("parameters").EnumerateArray().Select(p => new SweepParameter(
                p.GetProperty("name").GetString()!,
                Enum.Parse<SweepStep>(p.GetProperty("step").GetString()!),
                p.GetProperty("binds").GetString()!,
                SweepJson.ReadValue(p.GetProperty("value")))).ToList();
            return new SweepPoint
            {
                Index = e.GetProperty("index").GetInt32(),
                Seed = e.GetProperty("seed").GetInt32(),
                Settings = parameters,
                Script = e.TryGetProperty("script", out var s) ? s.GetString() : null,
            };
        }
        catch (Exception x) when (x is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or NullReferenceException)
        {
            throw SparsePruneException.BadData("CorruptSweepResult", $"A sweep point is not in the expected form: {x.Message}");
        }
    }
}
