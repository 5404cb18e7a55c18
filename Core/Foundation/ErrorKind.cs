namespace SparsePrune;

/// <summary>What kind of failure an error is; cmdlets map it to an ErrorCategory.</summary>
public enum ErrorKind
{
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ResourceExists,
    ObjectNotFound,
    NotSupported,
    Native,
}
