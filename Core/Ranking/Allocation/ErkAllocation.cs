namespace SparsePrune;

/// <summary>Per-layer targets that add up to an overall one.</summary>
internal static class ErkAllocation
{
    /// <summary>
    /// Erdős–Rényi-Kernel allocation (Evci et al. 2020, "Rigging the Lottery"): a layer keeps a
    /// share of its weights proportional to (in + out) / (in × out), so small layers (the output
    /// layer) stay denser than wide ones, scaled so that the layers together delete
    /// <paramref name="ratio"/> of their weights. A layer that would keep more than all its
    /// weights stays dense and the others share the rest. Returns each layer's target (the
    /// fraction of its weights to delete).
    /// </summary>
    public static double[] Erk(IReadOnlyList<(int In, int Out)> shapes, double ratio)
    {
        int count = shapes.Count;
        var n = shapes.Select(s => (double)s.In * s.Out).ToArray();
        var factor = shapes.Select(s => (double)(s.In + s.Out) / ((double)s.In * s.Out)).ToArray();
        var dense = new bool[count];
        double scale;
        while (true)
        {
            double keep = (1 - ratio) * n.Sum() - Enumerable.Range(0, count).Where(l => dense[l]).Sum(l => n[l]);
            double weighted = Enumerable.Range(0, count).Where(l => !dense[l]).Sum(l => factor[l] * n[l]);
            scale = weighted <= 0 ? 0 : keep / weighted;
            var newlyDense = Enumerable.Range(0, count).Where(l => !dense[l] && scale * factor[l] > 1).ToList();
            if (newlyDense.Count == 0) break;
            foreach (var l in newlyDense) dense[l] = true;
        }
        return Enumerable.Range(0, count).Select(l => dense[l] ? 0 : Math.Clamp(1 - scale * factor[l], 0, 0.999999)).ToArray();
    }
}
