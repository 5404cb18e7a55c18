using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// How a model maps raw feature rows to the inputs its first layer was trained on:
/// (x − <see cref="Offset"/>) / <see cref="Scale"/>, from the first data set it was trained on, so
/// that Invoke-Mlp takes raw rows. <see cref="Kind"/> names how the statistics were taken.
/// </summary>
internal sealed record InputScaling(Normalization Kind, float[] Offset, float[] Scale)
{
    /// <summary>The normalized inputs for raw rows.</summary>
    public Tensor Apply(Tensor raw) => (raw - tensor(Offset).to(raw.device)) / tensor(Scale).to(raw.device);

    /// <summary>
    /// The identity on <paramref name="inputs"/> features, for models whose first layer takes raw rows
    /// (imported files with the normalization folded in): a data set attached later has its rows
    /// mapped back to raw values rather than fed standardized.
    /// </summary>
    public static InputScaling Identity(int inputs) => new(Normalization.None, new float[inputs], Enumerable.Repeat(1f, inputs).ToArray());

    /// <summary>An independent copy (the arrays too).</summary>
    public InputScaling Copy() => new(Kind, Offset.ToArray(), Scale.ToArray());
}
