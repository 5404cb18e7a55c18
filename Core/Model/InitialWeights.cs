using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A model's weights at initialization: PyTorch's Linear default U(-1/sqrt(fan_in),
/// 1/sqrt(fan_in)), drawn from a seeded managed generator so that a seed means the same weights
/// in every process, and can be drawn again to rewind a lottery ticket.
/// </summary>
internal static class InitialWeights
{
    /// <summary>Each layer's initial weights and bias for <paramref name="widths"/> and <paramref name="seed"/>.</summary>
    public static IEnumerable<(float[] W, float[] B)> Draw(int[] widths, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i + 1 < widths.Length; i++)
        {
            int fanIn = widths[i], fanOut = widths[i + 1];
            double bound = 1.0 / Math.Sqrt(fanIn);
            var w = new float[(long)fanOut * fanIn];
            for (long k = 0; k < w.LongLength; k++) w[k] = (float)((rng.NextDouble() * 2 - 1) * bound);
            var b = new float[fanOut];
            for (int k = 0; k < fanOut; k++) b[k] = (float)((rng.NextDouble() * 2 - 1) * bound);
            yield return (w, b);
        }
    }

    /// <summary>The same values as tensors, detached from any dispose scope (the caller owns them).</summary>
    public static List<(Tensor W, Tensor B)> Tensors(int[] widths, int seed) =>
        Draw(widths, seed).Select((p, i) =>
            (tensor(p.W, new long[] { widths[i + 1], widths[i] }).DetachFromDisposeScope(),
             tensor(p.B, new long[] { widths[i + 1] }).DetachFromDisposeScope())).ToList();

    /// <summary>
    /// Every parameter of <paramref name="model"/> at initialization (drawn again from its seed),
    /// at the original widths: the rewind point of a lottery ticket (<see cref="NeuronOrigins.SelectPresent"/>
    /// cuts it to the neurons present now). The caller owns the tensors.
    /// </summary>
    public static List<(Tensor W, Tensor B)> Of(Mlp model) => Tensors(model.OriginalWidths, model.Seed);
}
