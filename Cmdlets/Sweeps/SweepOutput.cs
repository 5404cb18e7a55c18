using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>
/// A sweep result as the pipeline gets it: the result with one extra property per point
/// parameter (Ratio, Structure, Bits, ...), so Sort-Object, Group-Object, Format-Table and
/// Export-Csv see the settings as columns. A list value shows as "0,1".
/// </summary>
internal static class SweepOutput
{
    public static PSObject Wrap(SweepResult result)
    {
        var output = new PSObject(result);
        foreach (var p in result.Spec.Settings)
        {
            if (output.Properties[p.Name] is not null) continue;
            output.Properties.Add(new PSNoteProperty(p.Name, p.Value is object?[] ? SweepParameter.Format(p.Value) : p.Value));
        }
        return output;
    }
}
