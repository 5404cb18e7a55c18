namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// A valid file the fuzzer starts from, with what it knows of its layout: the numbers worth
/// lying about (<see cref="Fields"/>) and the sections worth moving, repeating or dropping
/// (<see cref="Sections"/>, as start and length). Offsets refer to <see cref="Bytes"/>.
/// </summary>
internal sealed record FuzzSeed(string Name, byte[] Bytes, IReadOnlyList<FuzzField> Fields, IReadOnlyList<(int Start, int Length)> Sections)
{
    /// <summary>A seed whose layout the fuzzer does not know: only the generic mutations apply.</summary>
    public static FuzzSeed Opaque(string name, byte[] bytes) => new(name, bytes, Array.Empty<FuzzField>(), Array.Empty<(int, int)>());
}
