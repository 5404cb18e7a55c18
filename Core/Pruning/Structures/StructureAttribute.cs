namespace SparsePrune;

/// <summary>Names the <see cref="PruneStructure"/> value a <see cref="PrunableStructure"/> subclass implements.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class StructureAttribute : Attribute
{
    public StructureAttribute(PruneStructure kind) => Kind = kind;
    public PruneStructure Kind { get; }
}
