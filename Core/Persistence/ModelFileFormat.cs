namespace SparsePrune;

/// <summary>The file formats Export-Mlp writes and Import-Mlp reads.</summary>
public enum ModelFileFormat
{
    /// <summary>SparsePrune's own .spmlp: everything, bit for bit (masks, deletions, history).</summary>
    Spmlp,
    /// <summary>A PyTorch state dict of a torch.nn.Sequential in the SafeTensors format, inputs raw.</summary>
    SafeTensors,
    /// <summary>An ONNX model (ModelProto) for ONNX Runtime, inputs raw; pruned layers at their shapes.</summary>
    Onnx,
}
