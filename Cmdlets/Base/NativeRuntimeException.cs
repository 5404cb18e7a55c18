namespace SparsePrune.Cmdlets;

/// <summary>
/// The module's native runtime cannot be used: missing, of another version or platform, or
/// damaged. Its message names what is wrong and ends with the one command that fixes it, which
/// <see cref="FixCommand"/> holds on its own.
/// </summary>
public sealed class NativeRuntimeException : Exception
{
    public NativeRuntimeException(string errorId, string problem, string fixCommand, Exception? inner = null)
        : base($"{problem} {FixVerb(errorId)}: {fixCommand}", inner)
    {
        ErrorId = errorId;
        FixCommand = fixCommand;
    }

    /// <summary>RuntimeMissing, RuntimeVersionMismatch, RuntimeWrongPlatform, RuntimeDamaged or PlatformNotSupported.</summary>
    public string ErrorId { get; }

    /// <summary>The command that mends the install, as the user would type it.</summary>
    public string FixCommand { get; }

    private static string FixVerb(string errorId) => errorId switch
    {
        "RuntimeDamaged" => "Reinstall it with",
        "PlatformNotSupported" => "What works instead",
        _ => "Install it with",
    };
}
