namespace SparsePrune;

/// <summary>Builds the ONNX ModelProto of an MLP (see <see cref="OnnxFormat"/>).</summary>
internal static class OnnxWriter
{
    public static byte[] Write(Mlp model, OnnxExportOptions options) =>
        throw new SparsePruneException("NotImplemented", ErrorKind.NotSupported, "ONNX export is not written yet.");
}
