namespace SparsePrune;

/// <summary>
/// What the jobs that move weights (Set-Sparsity, Invoke-Pruning) ask before they start: a
/// quantized layer's weights must stay on its scheme's values. Here, on the model's floor, so those
/// jobs need not reach into the quantize job beside them.
/// </summary>
internal static class QuantizationGuard
{
    /// <summary>Refuses to change the weights of a quantized model in ways that would break the sharing.</summary>
    public static void RefuseIfQuantized(Mlp model, string what)
    {
        if (model.State.Any(l => l.Quantization is not null))
            throw SparsePruneException.Operation("ModelQuantized",
                $"Model '{model.Name}' is quantized: {what} would break its shared weights. Sparsify and prune before Invoke-Quantization (it comes last), or train with Invoke-Training -Dequantize first to go back to free weights.");
    }
}
