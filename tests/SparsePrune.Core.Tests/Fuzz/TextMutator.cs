using System.Text;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// Mutations of text a reader parses (CSV, a JSON header or metadata): numbers replaced by
/// extremes, signs, exponents or words; known tokens (a dtype, an activation name) swapped for
/// others or garbage; quotes, separators and brackets added or removed; lines repeated or dropped.
/// </summary>
internal static class TextMutator
{
    private static readonly string[] Numbers =
    {
        "0", "-1", "-0", "1", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "18446744073709551616", "99999999999999999999999", "1e400", "-1e400", "3.5e38", "1e-50", "1.5", "0.0",
        "NaN", "Infinity", "-Infinity", "0x10", "1,5", "", "\"7\"", "null", "[]", "{}", "1e", ".", "+", "١٢",
    };

    private static readonly string[] Punctuation = { "\"", ",", "{", "}", "[", "]", ":", "\n", "\r", "\\", "\0", "\uFFFD", "\u00e9", "\t" };

    public static string Mutate(string text, IReadOnlyList<(string From, string[] To)> tokens, Random rng)
    {
        int count = 1 + (rng.Next(4) == 0 ? 1 : 0);
        for (int k = 0; k < count && text.Length > 0; k++)
            text = rng.Next(tokens.Count > 0 ? 6 : 5) switch
            {
                0 or 1 => ReplaceNumber(text, rng),
                2 => Punctuate(text, rng),
                3 => MoveLine(text, rng),
                4 => ReplaceRun(text, rng),
                _ => SwapToken(text, tokens[rng.Next(tokens.Count)], rng),
            };
        return text;
    }

    private static string ReplaceNumber(string text, Random rng)
    {
        var starts = new List<int>();
        for (int i = 0; i < text.Length; i++)
            if (char.IsAsciiDigit(text[i]) && (i == 0 || !char.IsAsciiDigit(text[i - 1]) && text[i - 1] != '.')) starts.Add(i);
        if (starts.Count == 0) return Punctuate(text, rng);
        int at = starts[rng.Next(starts.Count)], end = at;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] is '.' or 'e' or 'E' or '-' or '+')) end++;
        string replacement = rng.Next(3) == 0 ? rng.NextInt64(-1_000_000, long.MaxValue).ToString() : Numbers[rng.Next(Numbers.Length)];
        return string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(end));
    }

    private static string Punctuate(string text, Random rng)
    {
        int at = rng.Next(text.Length);
        if (rng.Next(2) == 0 && Punctuation.Contains(text[at].ToString())) return text.Remove(at, 1);
        return text.Insert(at, Punctuation[rng.Next(Punctuation.Length)]);
    }

    private static string MoveLine(string text, Random rng)
    {
        var lines = text.Split('\n').ToList();
        if (lines.Count < 2) return Punctuate(text, rng);
        int from = rng.Next(lines.Count);
        switch (rng.Next(3))
        {
            case 0: lines.Insert(rng.Next(lines.Count + 1), lines[from]); break;
            case 1: lines.RemoveAt(from); break;
            default: (lines[from], lines[^1]) = (lines[^1], lines[from]); break;
        }
        return string.Join('\n', lines);
    }

    private static string ReplaceRun(string text, Random rng)
    {
        int at = rng.Next(text.Length), length = Math.Min(rng.Next(1, 9), text.Length - at);
        var run = new StringBuilder();
        for (int k = rng.Next(0, 9); k > 0; k--) run.Append((char)rng.Next(rng.Next(4) == 0 ? 0x10000 : 0x80));
        return string.Concat(text.AsSpan(0, at), run.ToString(), text.AsSpan(at + length));
    }

    private static string SwapToken(string text, (string From, string[] To) token, Random rng)
    {
        int at = text.IndexOf(token.From, StringComparison.Ordinal);
        if (at < 0) return ReplaceNumber(text, rng);
        // Each occurrence is as likely as the first: skip a random number of them.
        for (int skip = rng.Next(4); skip > 0; skip--)
        {
            int next = text.IndexOf(token.From, at + 1, StringComparison.Ordinal);
            if (next < 0) break;
            at = next;
        }
        return string.Concat(text.AsSpan(0, at), token.To[rng.Next(token.To.Length)], text.AsSpan(at + token.From.Length));
    }
}
