namespace SparsePrune;

/// <summary>
/// A failure with a stable identifier (scripts and tests match on <see cref="ErrorId"/>) and a
/// message that says what to change.
/// </summary>
public sealed class SparsePruneException : Exception
{
    public SparsePruneException(string errorId, ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }

    internal static SparsePruneException Argument(string id, string message) => new(id, ErrorKind.InvalidArgument, message);
    internal static SparsePruneException BadData(string id, string message) => new(id, ErrorKind.InvalidData, message);
    internal static SparsePruneException Operation(string id, string message) => new(id, ErrorKind.InvalidOperation, message);
}
