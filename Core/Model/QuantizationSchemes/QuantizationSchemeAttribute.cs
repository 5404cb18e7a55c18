namespace SparsePrune;

/// <summary>
/// Registers a <see cref="QuantizationScheme"/> subclass: the name users type (-Method) and
/// history and .spmlp version 2 metadata carry, and the method byte of a .spmlp version-3
/// quantized section. <see cref="QuantizationScheme.Named"/> finds schemes by it, so a new scheme
/// is one new class (plus a value of the quantize job's method enum of the same name, to be
/// selectable by -Method).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class QuantizationSchemeAttribute : Attribute
{
    public QuantizationSchemeAttribute(string name, byte fileCode)
    {
        Name = name;
        FileCode = fileCode;
    }

    public string Name { get; }
    /// <summary>The method byte of a version-3 section; written files depend on it, so it never changes.</summary>
    public byte FileCode { get; }
}
