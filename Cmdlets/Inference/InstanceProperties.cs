using System.Management.Automation;
using System.Reflection;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Reads the note properties of a [pscustomobject] (a row of Import-Csv) straight from its own
/// member list. PSObject.Properties' enumerator merges the object's members with its type's and
/// its adapter's into a new collection on every call, and on 100,000 rows of 21 columns that
/// cost more than Import-Csv took to make them. The member list is internal to PowerShell, so it
/// is found once by reflection; where it is not there (another PowerShell), or a row holds any
/// other kind of property, <see cref="TryRead"/> says no and the caller enumerates as before.
/// </summary>
internal static class InstanceProperties
{
    private static readonly Func<PSObject, IEnumerable<PSMemberInfo>>? s_members = Find();

    private static Func<PSObject, IEnumerable<PSMemberInfo>>? Find()
    {
        try
        {
            var getter = typeof(PSObject).GetProperty("InstanceMembers", BindingFlags.Instance | BindingFlags.NonPublic)?.GetMethod;
            if (getter is null || !typeof(IEnumerable<PSMemberInfo>).IsAssignableFrom(getter.ReturnType)) return null;
            return (Func<PSObject, IEnumerable<PSMemberInfo>>)Delegate.CreateDelegate(typeof(Func<PSObject, IEnumerable<PSMemberInfo>>), getter);
        }
        catch (Exception e) when (e is ArgumentException or MemberAccessException or AmbiguousMatchException)
        {
            return null;
        }
    }

    /// <summary>Whether the fast route exists in this PowerShell.</summary>
    public static bool Available => s_members is not null;

    /// <summary>
    /// The row's note properties, in order, into <paramref name="names"/> and <paramref name="values"/>;
    /// false (lists cleared) when the row is not a plain [pscustomobject] of note properties.
    /// </summary>
    public static bool TryRead(PSObject row, List<string> names, List<object?> values)
    {
        names.Clear();
        values.Clear();
        if (s_members is null || row.BaseObject is not PSCustomObject) return false;
        foreach (var member in s_members(row))
        {
            switch (member)
            {
                case PSNoteProperty note:
                    names.Add(note.Name);
                    values.Add(note.Value);
                    break;
                case PSPropertyInfo property when string.Equals(property.Name, "PSTypeNames", StringComparison.OrdinalIgnoreCase):
                    break; // PowerShell's own hidden member, not a column
                case PSPropertyInfo:
                    names.Clear();
                    values.Clear();
                    return false; // script, alias or code properties: leave them to PowerShell
            }
        }
        return true;
    }
}
