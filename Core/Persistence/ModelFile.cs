namespace SparsePrune;

/// <summary>
/// Model files whatever their format: the format a path gets, the checks before writing, the
/// atomic write itself, and reading a file by what its first bytes say it is.
/// </summary>
public static class ModelFile
{
    /// <summary>The format to write: the one given, else by extension (.safetensors, .onnx), else .spmlp.</summary>
    public static ModelFileFormat FormatFor(string path, ModelFileFormat? given) =>
        given ?? (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.SafeTensors
            : path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.Onnx
            : ModelFileFormat.Spmlp);

    /// <summary>Checks that the options fit the format (what -WhatIf must refuse too).</summary>
    public static void CheckOptions(ModelFileFormat format, OnnxExportOptions? onnx)
    {
        if (onnx is not null && format != ModelFileFormat.Onnx)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"-OpsetVersion and -SparseInitializers shape ONNX files; this one is written as {format}. Give -Format Onnx or a path ending in .onnx.");
        onnx?.Validate();
    }

    public static void Save(Mlp model, string path, ModelFileFormat format, bool force, OnnxExportOptions? onnx = null)
    {
        CheckOptions(format, onnx);
        switch (format)
        {
            case ModelFileFormat.SafeTensors: SafeTensorsFormat.Save(model, path, force); break;
            case ModelFileFormat.Onnx: OnnxFormat.Save(model, path, force, onnx); break;
            default: SpmlpFormat.Save(model, path, force); break;
        }
    }

    /// <summary>
    /// Reads a .spmlp, SafeTensors or ONNX file, told apart by content (ONNX, which has no magic
    /// number, also by a .onnx extension). <paramref name="activation"/> is for SafeTensors files
    /// that do not name their activation.
    /// </summary>
    public static Mlp Load(string path, Activation? activation = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new SparsePruneException("ModelFileNotFound", ErrorKind.ObjectNotFound, $"There is no model file '{full}'.");
        var head = new byte[SafeTensorsFormat.SniffLength];
        int read;
        using (var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read))
            read = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var start = head.AsSpan(0, read);
        if (SafeTensorsFormat.LooksLikeSafeTensors(start)) return SafeTensorsFormat.Load(full, activation);
        if (full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !start.StartsWith(SpmlpFormat.Magic))
            throw SparsePruneException.BadData("NotAModelFile", $"'{full}' is not a SafeTensors file: it does not start with an 8-byte header length followed by a JSON header ('{{').");
        bool spmlp = start.StartsWith(SpmlpFormat.Magic);
        bool onnx = !spmlp && (full.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || OnnxFormat.LooksLikeOnnx(start));
        if (activation is not null)
            throw SparsePruneException.Argument("ParameterNotApplicable", $"-Activation is for SafeTensors files that do not name their activation; '{full}' is {(onnx ? "an ONNX file, whose graph names its activations" : "a .spmlp file, which does")}. Leave out -Activation.");
        return onnx ? OnnxFormat.Load(full) : SpmlpFormat.Load(full);
    }

    /// <summary>
    /// The checks before writing <paramref name="path"/>: not a folder, the folder exists, no
    /// file there unless <paramref name="force"/>. Returns the full path.
    /// </summary>
    internal static string CheckTarget(string path, bool force, string suggestedName)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw SparsePruneException.Argument("PathIsDirectory", $"'{full}' is a folder; give a file name such as '{Path.Combine(full, suggestedName)}'.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new SparsePruneException("DirectoryNotFound", ErrorKind.ObjectNotFound, $"The folder '{dir}' does not exist; create it first.");
        if (File.Exists(full) && !force)
            throw Exists(full);
        return full;
    }

    /// <summary>
    /// Writes atomically: <paramref name="write"/> fills a temporary file in the same folder, which
    /// is flushed to disk and then renamed to <paramref name="full"/>; it replaces an existing file
    /// only when <paramref name="force"/>. On any failure the temporary file is removed.
    /// </summary>
    internal static void WriteAtomically(string full, bool force, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(full)!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, full, overwrite: force);
            }
            catch (IOException) when (!force && File.Exists(full))
            {
                throw Exists(full);
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static SparsePruneException Exists(string full) =>
        new("ModelFileExists", ErrorKind.ResourceExists, $"'{full}' already exists. Give -Force to replace it, or choose another -Path.");
}
