using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Lets a <see cref="PruneCriterion"/> parameter take every name the criterion registry knows,
/// aliases included (Set-Sparsity -Method Magnitude, the name from before it ranked through the
/// criteria, is L1); an unknown name fails with the registry's list of names.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CriterionNameAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is not string name) return inputData;
        try { return ImportanceCriterion.Parse(name); }
        catch (SparsePruneException e) { throw new ArgumentTransformationMetadataException(e.Message, e); }
    }
}
