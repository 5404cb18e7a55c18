using System.Globalization;

namespace SparsePrune;

/// <summary>
/// One parameter of a sweep point: its name as the grid gave it, the cmdlet step it goes to, the
/// cmdlet parameter it binds (the name without a "Pruning." or "Quantization." prefix), and its
/// value as plain data (text, a whole number, a double, a boolean, or an array of those): what
/// travels to workers and into result files unchanged.
/// </summary>
public sealed record SweepParameter(string Name, SweepStep Step, string Binds, object? Value)
{
    /// <summary>"Ratio=0.5", "Layer=0,1": the value as a grid or a CSV column shows it.</summary>
    public override string ToString() => $"{Name}={Format(Value)}";

    /// <summary>Invariant text of a plain value; arrays joined by commas.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        object?[] items => string.Join(",", items.Select(Format)),
        _ => value.ToString() ?? "",
    };
}
