namespace SparsePrune.Tests.Fuzz;

/// <summary>What a fuzz case that loaded a model does with it: count its weights, then free its tensors at once.</summary>
internal static class LoadedModel
{
    /// <summary>The dense weights of <paramref name="model"/>'s layers (what the allocation bound allows for), after disposing them.</summary>
    public static long Release(Mlp model)
    {
        long weights = model.State.Sum(l => (long)l.OutFeatures * l.InFeatures);
        // Thousands of cases: leave nothing to the finalizer.
        foreach (var layer in model.State) layer.Dispose();
        return weights;
    }
}
