using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace SparsePrune;

/// <summary>
/// The autograd node of a layer trained through the sparse kernels: its inputs are the layer's
/// input rows and bias (tensors autograd differentiates) and the <see cref="SparseTrainedLayer"/>
/// that holds the weights; the weight gradient goes to that object, not through autograd, since
/// the weights live there as one value per present connection. Activations, losses and
/// distillation around it stay LibTorch's.
/// </summary>
internal sealed class SparseLinearFunction : SingleTensorFunction<SparseLinearFunction>
{
    public override string Name => nameof(SparseLinearFunction);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var layer = (SparseTrainedLayer)vars[2];
        ctx.save_data("layer", layer);
        return layer.ForwardProduct((Tensor)vars[0], (Tensor)vars[1]);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var layer = (SparseTrainedLayer)ctx.get_data("layer");
        var (input, bias) = layer.BackwardProduct(grad_output);
        // One gradient per input, the layer object included (it takes none).
        return new List<Tensor> { input!, bias, null! };
    }
}
