namespace SparsePrune;

/// <summary>
/// Names the <see cref="PruneCriterion"/> value an <see cref="ImportanceCriterion"/> subclass
/// implements: <see cref="ImportanceCriterion.Create"/> finds criteria by it, so a new criterion is
/// one new class plus its enum value.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class CriterionAttribute : Attribute
{
    public CriterionAttribute(PruneCriterion kind) => Kind = kind;
    public PruneCriterion Kind { get; }
}
