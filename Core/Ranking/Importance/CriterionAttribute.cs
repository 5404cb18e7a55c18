namespace SparsePrune;

/// <summary>
/// Names the <see cref="PruneCriterion"/> value an <see cref="ImportanceCriterion"/> subclass
/// implements: <see cref="ImportanceCriterion.Create"/> finds criteria by it, so a new criterion is
/// one new class plus its enum value. <see cref="Aliases"/> are further names users may type for
/// it (Set-Sparsity's -Method Magnitude, from before Set-Sparsity ranked through the criteria).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class CriterionAttribute : Attribute
{
    public CriterionAttribute(PruneCriterion kind, params string[] aliases)
    {
        Kind = kind;
        Aliases = aliases;
    }

    public PruneCriterion Kind { get; }
    public IReadOnlyList<string> Aliases { get; }
}
