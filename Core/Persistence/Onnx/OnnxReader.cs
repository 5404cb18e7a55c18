namespace SparsePrune;

/// <summary>Reads an MLP-shaped ONNX graph into an <see cref="Mlp"/> (see <see cref="OnnxFormat"/>).</summary>
internal static class OnnxReader
{
    public static Mlp Read(byte[] bytes, string source, string name) =>
        throw new SparsePruneException("NotImplemented", ErrorKind.NotSupported, "ONNX import is not written yet.");
}
