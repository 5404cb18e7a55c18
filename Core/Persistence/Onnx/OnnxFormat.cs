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
