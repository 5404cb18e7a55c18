using Xunit;

namespace SparsePrune.Tests;

/// <summary>A fact that is skipped, with the reason, where Debian's python3-onnx is missing.</summary>
public sealed class OnnxCheckerFactAttribute : FactAttribute
{
    public OnnxCheckerFactAttribute()
    {
        if (OnnxChecker.Unavailable is { } reason) Skip = reason;
    }
}
