namespace SparsePrune;

/// <summary>
/// ONNX files, for ONNX Runtime and every exporter that writes them: an MLP leaves as a
/// standard <c>ModelProto</c> (<see cref="OnnxWriter"/>) and comes in from the graphs the common
/// exporters write (<see cref="OnnxReader"/>). The message classes are generated from ONNX's own
/// onnx.proto (namespace Onnx, internal).
/// </summary>
public static class OnnxFormat
{
    /// <summary>The file's bytes.</summary>
    public static byte[] ToBytes(Mlp model, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        options.Validate();
        return OnnxWriter.Write(model, options);
    }

    /// <summary>Writes atomically; refuses to replace a file unless <paramref name="force"/> (see <see cref="ModelFile"/>).</summary>
    public static void Save(Mlp model, string path, bool force, OnnxExportOptions? options = null)
    {
        var full = ModelFile.CheckTarget(path, force, model.Name + ".onnx");
        var bytes = ToBytes(model, options);
        ModelFile.WriteAtomically(full, force, s => s.Write(bytes));
    }

    /// <summary>
    /// The share of a dense-initializer file that <see cref="OnnxExportOptions.SparseInitializers"/>
    /// must save at least before <see cref="SparseInitializerHint"/> speaks: a warning on every
    /// export for a few per cent would be noise.
    /// </summary>
    public const double HintShare = 0.1;

    /// <summary>
    /// A note for a file written with dense initializers (<paramref name="fileBytes"/> long at
    /// <paramref name="path"/>) when sparse ones would make it at least <see cref="HintShare"/>
    /// smaller: the size, the saving and the trade-off. Null when they would not help (no
    /// connection-pruned layer, or too few zeros in them for the indices to pay).
    /// </summary>
    public static string? SparseInitializerHint(Mlp model, string path, long fileBytes)
    {
        var (saving, layers) = OnnxWriter.SparseInitializerSaving(model);
        if (layers == 0 || fileBytes <= 0 || saving < HintShare * fileBytes) return null;
        return FormattableString.Invariant(
            $"'{path}' is {fileBytes:N0} bytes: {layers} connection-pruned layer(s) of model '{model.Name}' are written as dense tensors, zeros included. ") +
            FormattableString.Invariant($"With -SparseInitializers they keep only their non-zero weights and positions, and the file would be at least {saving:N0} bytes ({100.0 * saving / fileBytes:0} %) smaller. ") +
            "ONNX Runtime expands sparse initializers to dense tensors when it loads the file, so the model runs no faster and takes as much memory either way; " +
            "give -SparseInitializers for the smaller file, or -SparseInitializers:$false to keep it dense without this warning.";
    }

    public static Mlp Load(string path, Activation? activation = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new SparsePruneException("ModelFileNotFound", ErrorKind.ObjectNotFound, $"There is no model file '{full}'.");
        using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        return OnnxReader.Read(fs, fs.Length, $"'{full}'", Path.GetFileNameWithoutExtension(full));
    }

    /// <summary>
    /// Reads an MLP-shaped ONNX graph. A graph of another shape fails with UnsupportedOnnxGraph
    /// (naming the node and its op type); bytes that are not a valid ModelProto with CorruptModelFile.
    /// <paramref name="activation"/> is not needed: the graph names its activations.
    /// </summary>
    public static Mlp FromBytes(byte[] bytes, Activation? activation = null, string source = "the data", string name = "onnx-model") =>
        OnnxReader.Read(bytes, source, name);

    /// <summary>
    /// Might <paramref name="start"/> (a file's first bytes) be an ONNX ModelProto? Its first
    /// field is ir_version (field 1, varint: tag byte 0x08), as every exporter writes it. A guess
    /// only: the reader decides.
    /// </summary>
    public static bool LooksLikeOnnx(ReadOnlySpan<byte> start) => start.Length > 1 && start[0] == 0x08;
}
