using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparsePrune;

/// <summary>
/// The instruction set a dense product runs on. <see cref="Best"/> is the widest this CPU has;
/// the others stay reachable so that tests can run every path on one machine, and so that a
/// CPU without AVX-512 (or without AVX2) still multiplies correctly.
/// </summary>
internal enum GemmPath
{
    /// <summary>Plain scalar arithmetic: any CPU.</summary>
    Scalar,
    /// <summary>8-wide vectors with fused multiply-add (AVX2 and FMA).</summary>
    Vector256,
    /// <summary>16-wide vectors with fused multiply-add (AVX-512F).</summary>
    Avx512,
}

/// <summary>Which <see cref="GemmPath"/>s this CPU can run, and the one it runs by default.</summary>
internal static class GemmPaths
{
    /// <summary>
    /// The widest path the CPU runs, unless SPARSEPRUNE_GEMM names a narrower one ("scalar",
    /// "vector256"): a user can rule a path out, and a test can force the fallback in a child process.
    /// </summary>
    public static GemmPath Best { get; } = Choose(Environment.GetEnvironmentVariable("SPARSEPRUNE_GEMM"));

    public static bool Supports(GemmPath path) => path switch
    {
        GemmPath.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        GemmPath.Vector256 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    internal static GemmPath Choose(string? request)
    {
        var widest = Supports(GemmPath.Avx512) ? GemmPath.Avx512 : Supports(GemmPath.Vector256) ? GemmPath.Vector256 : GemmPath.Scalar;
        GemmPath? asked = request?.Trim().ToLowerInvariant() switch
        {
            "scalar" => GemmPath.Scalar,
            "vector256" or "avx2" => GemmPath.Vector256,
            "avx512" => GemmPath.Avx512,
            _ => null,
        };
        // A request can only narrow: asking for a path the CPU lacks would fault.
        return asked is { } a && a < widest ? a : widest;
    }
}
