using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// The module's native runtime cannot be used: missing, of another version or platform, or
/// damaged. Its message names what is wrong and ends with the one command that fixes it, which
/// <see cref="FixCommand"/> holds on its own.
/// </summary>
public sealed class NativeRuntimeException : Exception, IContainsErrorRecord
{
    public NativeRuntimeException(string errorId, string problem, string fixCommand, Exception? inner = null)
        : base($"{problem} {FixVerb(errorId, fixCommand)}: {fixCommand}", inner)
    {
        ErrorId = errorId;
        FixCommand = fixCommand;
    }

    /// <summary>RuntimeMissing, RuntimeVersionMismatch, RuntimeWrongPlatform, RuntimeDamaged or PlatformNotSupported.</summary>
    public string ErrorId { get; }

    /// <summary>The command that mends the install, as the user would type it.</summary>
    public string FixCommand { get; }

    /// <summary>What Import-Module reports: <see cref="ErrorId"/> as the error's id, the fix as its recommended action.</summary>
    public ErrorRecord ErrorRecord => new(this, ErrorId, ErrorCategory.ResourceUnavailable, null)
    {
        ErrorDetails = new ErrorDetails(Message) { RecommendedAction = FixCommand },
    };

    private static string FixVerb(string errorId, string fixCommand)
        => errorId == "PlatformNotSupported" ? "What works instead"
        : fixCommand.EndsWith("-Reinstall", StringComparison.Ordinal) ? "Reinstall it with"
        : fixCommand.StartsWith("dotnet", StringComparison.Ordinal) ? "Rebuild it with"
        : "Install it with";
}
