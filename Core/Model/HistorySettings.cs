using System.Collections;
using System.Globalization;

namespace SparsePrune;

/// <summary>
/// The settings of one operation in a model's history, by name in the order the operation gave
/// them, with their values typed as the operation used them (0.9 a double, Scope an
/// enum value, Bits an int[]): <c>$record.Settings.Ratio</c>. Names are
/// case-insensitive, as PowerShell's are. Read-only once recorded. <see cref="ToString"/> is the
/// one-line form the history showed before (<c>Ratio=0.9 Scope=Layer</c>), which is what files
/// keep (see <see cref="HistoryRecord"/>) and <see cref="Parse"/> types again on reading.
/// </summary>
public sealed class HistorySettings : IDictionary, IReadOnlyDictionary<string, object>, IEquatable<HistorySettings>
{
    private readonly List<string> _names = new();
    private readonly Dictionary<string, object> _values = new(StringComparer.OrdinalIgnoreCase);

    public static HistorySettings Empty { get; } = new();

    /// <summary>Adds a setting while an operation builds its settings; null values are left out (the setting did not apply).</summary>
    internal HistorySettings Add(string name, object? value)
    {
        if (ReferenceEquals(this, Empty)) throw new InvalidOperationException("The empty settings are shared.");
        if (value is null) return this;
        if (!_values.ContainsKey(name)) _names.Add(name);
        _values[name] = value;
        return this;
    }

    /// <summary>This operation's settings followed by <paramref name="more"/>'s (a later name replaces an earlier value in place).</summary>
    internal HistorySettings Concat(HistorySettings more)
    {
        var all = new HistorySettings();
        foreach (var n in _names) all.Add(n, _values[n]);
        foreach (var n in more._names) all.Add(n, more._values[n]);
        return all;
    }

    /// <summary>
    /// The settings line of files written before settings were typed (<c>Name=Value</c> pairs
    /// separated by spaces), parsed once on reading: a word without '=' belongs to the value
    /// before it (a data set's name with spaces); values become int, long, double or bool where
    /// the text is one of those, int[] or double[] for a comma list of numbers, else text.
    /// </summary>
    public static HistorySettings Parse(string? line)
    {
        var settings = new HistorySettings();
        var words = new List<(string Name, string Value)>();
        foreach (var word in (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=');
            if (eq > 0) words.Add((word[..eq], word[(eq + 1)..]));
            else if (words.Count > 0) words[^1] = (words[^1].Name, words[^1].Value + " " + word);
        }
        foreach (var (name, value) in words) settings.Add(name, ValueOf(value));
        return settings;
    }

    private static object ValueOf(string text)
    {
        if (Number(text) is { } n) return n;
        if (bool.TryParse(text, out var b) && (text == "True" || text == "False")) return b;
        if (text.Contains(',') && !text.Contains(' '))
        {
            var parts = text.Split(',').Select(Number).ToArray();
            if (parts.All(p => p is int)) return parts.Select(p => (int)p!).ToArray();
            if (parts.All(p => p is not null)) return parts.Select(p => Convert.ToDouble(p, CultureInfo.InvariantCulture)).ToArray();
        }
        return text;
    }

    /// <summary>An int, long or double the text writes exactly as it would be written back; null otherwise.</summary>
    private static object? Number(string text)
    {
        const NumberStyles integer = NumberStyles.AllowLeadingSign;
        if (int.TryParse(text, integer, CultureInfo.InvariantCulture, out var i) && i.ToString(CultureInfo.InvariantCulture) == text) return i;
        if (long.TryParse(text, integer, CultureInfo.InvariantCulture, out var l) && l.ToString(CultureInfo.InvariantCulture) == text) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && Text(d) == text) return d;
        return null;
    }

    /// <summary>One value as the settings line writes it: invariant numbers, enum names, lists joined by commas.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable list => string.Join(",", list.Cast<object?>().Select(Text)),
        _ => value.ToString() ?? "",
    };

    /// <summary>The settings as one line, <c>Name=Value</c> pairs separated by spaces (the history's form before settings were typed).</summary>
    public override string ToString() => string.Join(" ", _names.Select(n => $"{n}={Text(_values[n])}"));

    /// <summary>
    /// Equal when they write the same line: a file keeps an enum as its name, so a record read
    /// back equals the one written although Scope came back as text.
    /// </summary>
    public bool Equals(HistorySettings? other) => other is not null && ToString() == other.ToString();
    public override bool Equals(object? obj) => Equals(obj as HistorySettings);
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    public int Count => _names.Count;
    public IEnumerable<string> Keys => _names;
    public IEnumerable<object> Values => _names.Select(n => _values[n]);
    public object this[string key] => _values[key];
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out object value) => _values.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _names.Select(n => new KeyValuePair<string, object>(n, _values[n])).GetEnumerator();

    // IDictionary: PowerShell reads $settings.Ratio and formats the settings as a Name/Value table
    // through it. Read-only: a record's settings are what the operation did.
    object? IDictionary.this[object key]
    {
        get => key is string s && _values.TryGetValue(s, out var v) ? v : null;
        set => throw ReadOnly();
    }
    ICollection IDictionary.Keys => _names.ToArray();
    ICollection IDictionary.Values => Values.ToArray();
    bool IDictionary.IsReadOnly => true;
    bool IDictionary.IsFixedSize => true;
    bool ICollection.IsSynchronized => false;
    object ICollection.SyncRoot => _values;
    void IDictionary.Add(object key, object? value) => throw ReadOnly();
    void IDictionary.Clear() => throw ReadOnly();
    void IDictionary.Remove(object key) => throw ReadOnly();
    bool IDictionary.Contains(object key) => key is string s && _values.ContainsKey(s);
    void ICollection.CopyTo(Array array, int index)
    {
        foreach (var n in _names) array.SetValue(new DictionaryEntry(n, _values[n]), index++);
    }
    IDictionaryEnumerator IDictionary.GetEnumerator() => new Entries(this);
    IEnumerator IEnumerable.GetEnumerator() => ((IDictionary)this).GetEnumerator();

    private static NotSupportedException ReadOnly() => new("A history record's settings are read-only: they are what the operation did.");

    private sealed class Entries : IDictionaryEnumerator
    {
        private readonly HistorySettings _settings;
        private int _at = -1;
        public Entries(HistorySettings settings) => _settings = settings;
        public DictionaryEntry Entry => new(Key, Value);
        public object Key => _settings._names[_at];
        public object? Value => _settings._values[_settings._names[_at]];
        public object Current => Entry;
        public bool MoveNext() => ++_at < _settings._names.Count;
        public void Reset() => _at = -1;
    }
}
