using System.Text;

namespace SparsePrune;

/// <summary>Where an HTML report goes: the model files' rules (no silent overwrite, atomic write).</summary>
public static class HtmlReportFile
{
    /// <summary>The full path, once it is clear the report may be written there; SparsePruneException otherwise.</summary>
    public static string CheckTarget(string path, bool force)
    {
        try { return ModelFile.CheckTarget(path, force, "report.html"); }
        catch (SparsePruneException e) when (e.ErrorId == "ModelFileExists")
        {
            // The model files' rule, under a name that says what the file is.
            throw new SparsePruneException("ReportFileExists", ErrorKind.ResourceExists, e.Message);
        }
    }

    /// <summary>Writes <paramref name="html"/> as UTF-8 through a temporary file renamed into place.</summary>
    public static void Write(string full, string html, bool force) =>
        ModelFile.WriteAtomically(full, force, s => s.Write(new UTF8Encoding(false).GetBytes(html)));
}
