namespace SparsePrune;

/// <summary>
/// Registers an <see cref="Activation"/> subclass under its name (as it is spelled in files and
/// on the command line) and the other names it answers to: <see cref="Activation.Create"/> finds
/// activations by it, so a new activation is one new class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class ActivationNameAttribute : Attribute
{
    public ActivationNameAttribute(string name) => Name = name;

    /// <summary>The name files and messages use.</summary>
    public string Name { get; }

    /// <summary>Other libraries' names for the same function (scikit-learn's "logistic", Keras's "swish"); read, never written.</summary>
    public string[] Aliases { get; init; } = Array.Empty<string>();

    /// <summary>Where <see cref="Activation.Names"/> lists it (the five first activations keep their old order).</summary>
    public int Order { get; init; }
}
