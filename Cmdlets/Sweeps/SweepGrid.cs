using System.Collections;
using System.Management.Automation;
using System.Reflection;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Turns -Grid into sweep points. A hashtable is a grid: each value that is a list is one axis,
/// and the points are the cartesian product, the first key varying slowest; keys are taken in
/// the order an [ordered] hashtable gives, else alphabetically (a plain hashtable's order differs
/// between processes, and every shard must number the points alike). A list is one point per
/// item, each a hashtable taken as it is (a list value is one array parameter) or a scriptblock.
/// A key names a parameter of Invoke-Pruning or, failing that, Invoke-Quantization; the prefixes
/// "Pruning." and "Quantization." choose for the parameters both have (FineTuneEpochs, ...);
/// "Script" is a scriptblock run on the model copy afterwards; "Seed" sets the point's seed.
/// </summary>
internal static class SweepGrid
{
    private static readonly string[] NotInGrid = { "Model", "Dataset", "Teacher" };
    private static readonly IReadOnlyDictionary<string, Type> PruningParameters = ParametersOf(typeof(InvokePruningCommand));
    private static readonly IReadOnlyDictionary<string, Type> QuantizationParameters = ParametersOf(typeof(InvokeQuantizationCommand));

    public static IReadOnlyList<SweepPoint> Expand(object? grid, int seed)
    {
        var items = new List<IDictionary>();
        switch (Unwrap(grid))
        {
            case null:
                throw Empty();
            case IDictionary axes:
                items.AddRange(Cartesian(axes));
                break;
            case ScriptBlock script:
                items.Add(new Hashtable { ["Script"] = script });
                break;
            case IEnumerable list and not string:
                foreach (var item in list)
                {
                    items.Add(Unwrap(item) switch
                    {
                        IDictionary point => point,
                        ScriptBlock script => new Hashtable { ["Script"] = script },
                        var other => throw SparsePruneException.Argument("InvalidSweepGrid",
                            $"Each item of a -Grid list is a hashtable of parameters (@{{ Ratio = 0.5 }}) or a scriptblock; item {items.Count} is {Describe(other)}."),
                    });
                }
                break;
            case var other:
                throw SparsePruneException.Argument("InvalidSweepGrid",
                    $"-Grid is a hashtable whose values are lists (@{{ Ratio = 0.5, 0.8; Structure = 'Connection', 'Neuron' }}), a list of hashtables, or a scriptblock; it was {Describe(other)}.");
        }
        if (items.Count == 0) throw Empty();
        return items.Select((item, i) => Point(item, i, seed)).ToList();
    }

    private static IEnumerable<IDictionary> Cartesian(IDictionary axes)
    {
        var keys = axes.Keys.Cast<object>().Select(k => k.ToString() ?? "").ToList();
        if (axes is not System.Collections.Specialized.IOrderedDictionary) keys.Sort(StringComparer.OrdinalIgnoreCase);
        var values = keys.Select(k =>
        {
            var v = Unwrap(axes[k]);
            var list = v is IEnumerable e and not string and not IDictionary ? e.Cast<object?>().ToList() : new List<object?> { v };
            if (list.Count == 0) throw SparsePruneException.Argument("InvalidSweepGrid", $"-Grid key '{k}' has no values; give at least one (or leave the key out).");
            return list;
        }).ToList();
        IEnumerable<IDictionary> points = new[] { new System.Collections.Specialized.OrderedDictionary() };
        for (int k = 0; k < keys.Count; k++)
        {
            int axis = k;
            points = points.SelectMany(p => values[axis].Select(v =>
            {
                var next = new System.Collections.Specialized.OrderedDictionary();
                foreach (DictionaryEntry e in p) next.Add(e.Key, e.Value);
                next.Add(keys[axis], v);
                return (IDictionary)next;
            })).ToList();
        }
        return points;
    }

    private static SweepPoint Point(IDictionary item, int index, int seed)
    {
        var parameters = new List<SweepParameter>();
        string? script = null;
        int pointSeed = seed;
        var keys = item.Keys.Cast<object>().Select(k => k.ToString() ?? "").ToList();
        if (item is not System.Collections.Specialized.IOrderedDictionary) keys.Sort(StringComparer.OrdinalIgnoreCase);
        foreach (var name in keys)
        {
            var value = Unwrap(item[name]);
            if (name.Equals("Script", StringComparison.OrdinalIgnoreCase))
            {
                script = value is ScriptBlock sb ? sb.ToString()
                    : throw SparsePruneException.Argument("InvalidSweepGrid", $"Point {index}: 'Script' is a scriptblock that takes the model copy as $_ ({{ param() $_ | Set-Sparsity 0.5 }}); it was {Describe(value)}.");
                continue;
            }
            if (name.Equals("Seed", StringComparison.OrdinalIgnoreCase))
            {
                pointSeed = value is int or long or short or byte && Convert.ToInt64(value) is >= int.MinValue and <= int.MaxValue ? Convert.ToInt32(value)
                    : throw SparsePruneException.Argument("InvalidSweepGrid", $"Point {index}: 'Seed' is a whole number; it was {Describe(value)}.");
                continue;
            }
            var (step, binds) = Route(name);
            parameters.Add(new SweepParameter(name, step, binds, Plain(value, name, index)));
        }
        return new SweepPoint { Index = index, Seed = pointSeed, Settings = parameters, Script = script };
    }

    /// <summary>The cmdlet a grid key goes to, and the parameter it binds there.</summary>
    private static (SweepStep Step, string Binds) Route(string name)
    {
        var dot = name.IndexOf('.');
        string bare = dot >= 0 ? name[(dot + 1)..] : name;
        string? prefix = dot >= 0 ? name[..dot] : null;
        bool pruning = PruningParameters.ContainsKey(bare) && !NotInGrid.Contains(bare, StringComparer.OrdinalIgnoreCase);
        bool quantization = QuantizationParameters.ContainsKey(bare) && !NotInGrid.Contains(bare, StringComparer.OrdinalIgnoreCase);
        var canonical = (pruning ? PruningParameters : QuantizationParameters).Keys.FirstOrDefault(k => k.Equals(bare, StringComparison.OrdinalIgnoreCase)) ?? bare;
        if (prefix is null && pruning) return (SweepStep.Pruning, canonical);
        if (prefix is null && quantization) return (SweepStep.Quantization, canonical);
        if (prefix is not null && prefix.Equals("Pruning", StringComparison.OrdinalIgnoreCase) && pruning) return (SweepStep.Pruning, canonical);
        if (prefix is not null && prefix.Equals("Quantization", StringComparison.OrdinalIgnoreCase) && quantization)
            return (SweepStep.Quantization, QuantizationParameters.Keys.First(k => k.Equals(bare, StringComparison.OrdinalIgnoreCase)));
        var known = PruningParameters.Keys.Concat(QuantizationParameters.Keys).Except(NotInGrid).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase);
        throw SparsePruneException.Argument("UnknownSweepParameter",
            $"-Grid key '{name}' is not a parameter of Invoke-Pruning or Invoke-Quantization. A point's keys are {string.Join(", ", known)}, 'Seed' and 'Script' "
            + "(prefix 'Quantization.' for a parameter both cmdlets have, e.g. 'Quantization.FineTuneEpochs'); the sweep gives -Dataset and -Teacher itself.");
    }

    private static IReadOnlyDictionary<string, Type> ParametersOf(Type cmdlet) =>
        cmdlet.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttributes<ParameterAttribute>().Any() && p.Name != "Seed")
            .ToDictionary(p => p.Name, p => p.PropertyType, StringComparer.OrdinalIgnoreCase);

    /// <summary>A grid value as plain data (enums by name, numbers as they are, lists as arrays).</summary>
    private static object? Plain(object? value, string name, int index) => Unwrap(value) switch
    {
        null => null,
        string s => s,
        bool b => b,
        SwitchParameter sw => sw.IsPresent,
        Enum e => e.ToString(),
        int or short or byte or sbyte or ushort => Convert.ToInt32(Unwrap(value)),
        long or uint or ulong => Convert.ToInt64(Unwrap(value)),
        double d => d,
        float f => (double)f,
        decimal m => (double)m,
        IEnumerable list and not IDictionary => list.Cast<object?>().Select(v => Plain(v, name, index)).ToArray(),
        var other => throw SparsePruneException.Argument("InvalidSweepGrid",
            $"Point {index}: '{name}' is {Describe(other)}; a point's values are text, numbers, booleans or lists of those (they travel to worker processes and result files as such)."),
    };

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    private static string Describe(object? value) => value is null ? "null" : $"a {value.GetType().Name} ('{value}')";

    private static SparsePruneException Empty() => SparsePruneException.Argument("EmptySweepGrid",
        "-Grid has no points: give a hashtable of lists (@{ Ratio = 0.5, 0.8 }), a list of hashtables, or a scriptblock.");
}
