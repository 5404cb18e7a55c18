namespace SparsePrune;

/// <summary>
/// A model's history: one <see cref="HistoryRecord"/> per operation, numbered in order. Kept
/// apart from <see cref="Mlp"/> so that the network's type holds the network; a transaction
/// that fails cuts the history back to where it began.
/// </summary>
internal sealed class ModelHistory
{
    private readonly List<HistoryRecord> _records = new();

    /// <summary>The records, oldest first (a list, so that scripts can index it from the end: $m.History[-1]).</summary>
    public IReadOnlyList<HistoryRecord> Records => _records;

    public int Count => _records.Count;

    /// <summary>Appends a record, numbering it.</summary>
    public void Add(HistoryRecord record)
    {
        record.Step = _records.Count + 1;
        _records.Add(record);
    }

    /// <summary>Adds <paramref name="note"/> to the last record's note.</summary>
    public void AmendLastNote(string note)
    {
        var last = _records[^1];
        _records[^1] = last with { Note = string.IsNullOrEmpty(last.Note) ? note : last.Note + "; " + note };
    }

    /// <summary>Drops every record after the first <paramref name="count"/> (a transaction's undo).</summary>
    public void TruncateTo(int count)
    {
        if (_records.Count > count) _records.RemoveRange(count, _records.Count - count);
    }

    /// <summary>Replaces every record (a model read from a file).</summary>
    public void Replace(IEnumerable<HistoryRecord> records)
    {
        _records.Clear();
        _records.AddRange(records);
    }

    /// <summary>An independent copy.</summary>
    public ModelHistory Clone()
    {
        var copy = new ModelHistory();
        copy._records.AddRange(_records.Select(r => r with { }));
        return copy;
    }
}
