using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Folds a model's input normalization x' = (x − offset) / scale into its first layer:
/// W' = W / scale (per input column), b' = b − W'·offset. The model then takes raw rows
/// (its scaling becomes <see cref="InputScaling.Identity"/>, as an imported SafeTensors or ONNX
/// model's is), and its file no longer carries the 2 × inputs float32 statistics, which entropy
/// coding hardly shrinks: 6.3 KB of a 14.6 KB LeNet-300-100 file pruned to 98 % and 2-bit.
/// The exports fold with the same arithmetic (<see cref="FoldArrays"/>).
/// </summary>
internal static class InputFolding
{
    /// <summary>The default bound on the largest output change, relative to the largest output (at least 1).</summary>
    public const double DefaultTolerance = 1e-4;
    private const int Chunk = 4096;

    /// <summary>
    /// Folds <paramref name="offset"/> and <paramref name="scale"/> into a layer's row-major
    /// weights and bias (in place), in double. Zero weights (masked or deleted) stay exactly
    /// +0 or −0 as they were and add nothing to the bias. False when a value leaves float32's
    /// finite range (a feature whose scale is nearly 0); the arrays are then part changed.
    /// <paramref name="offsetOnly"/>: the weights stay as they are and only the offset folds,
    /// b' = b − Σ W·(offset / scale), for inputs then scaled by x / scale alone.
    /// </summary>
    public static bool FoldArrays(float[] weight, float[] bias, int outF, int inF, float[] offset, float[] scale, bool offsetOnly = false)
    {
        for (int r = 0; r < outF; r++)
        {
            double shift = 0;
            for (int c = 0; c < inF; c++)
            {
                int k = r * inF + c;
                if (weight[k] == 0f) continue;
                // Rounded to float32 as the folded weight the product then uses: the shift cancels what it adds.
                float folded = (float)(weight[k] / (double)scale[c]);
                if (!offsetOnly) weight[k] = folded;
                shift += offsetOnly ? weight[k] * ((double)offset[c] / scale[c]) : folded * (double)offset[c];
            }
            bias[r] = (float)(bias[r] - shift);
        }
        return weight.All(float.IsFinite) && bias.All(float.IsFinite);
    }

    /// <summary>
    /// The refusals of <see cref="Fold"/> before anything changes (what -WhatIf refuses too); false
    /// when there is nothing to fold. <paramref name="data"/> becomes the model's data set when
    /// neither it nor rows are given.
    /// </summary>
    public static bool Check(Mlp model, ref Dataset? data, float[]? rawRows, double tolerance, bool includeScales = false, int? scaleBits = null)
    {
        if (scaleBits is { } sb && (includeScales || sb < 1 || sb > 23))
            throw SparsePruneException.Argument(includeScales ? "ParameterNotApplicable" : "InvalidScaleBits", includeScales
                ? "-ScaleBits rounds the scales that stay when the offsets fold alone; with -IncludeScale no scale stays."
                : $"-ScaleBits keeps 1 to 23 significant bits of each scale (a float32 has 23); got {sb}.");
        if (!(tolerance > 0) || double.IsInfinity(tolerance))
            throw SparsePruneException.Argument("InvalidTolerance", $"The tolerance must be a positive number; got {tolerance}.");
        var scaling = model.Scaling ?? throw SparsePruneException.Operation("NoInputScaling",
            $"Model '{model.Name}' has no input normalization yet (it takes one from the first data set it trains on): there is nothing to fold. Train it first.");
        if (includeScales && model.State[0].Quantization is { } q)
            throw SparsePruneException.Operation("CannotFoldQuantizedLayer",
                $"Layer 0 of model '{model.Name}' is quantized ({q}): dividing its weights by each input's scale would move them off its {(q.Scheme.Name == "KMeans" ? "shared codebook" : "grid")}, and keeping a scale per input beside the codes costs what folding the scales saves. Fold the offsets alone (without the scales).");
        if (NothingToFold(scaling, !includeScales, DeadColumns(model.State[0]))
            && (scaleBits is not { } bits || scaling.Scale.All(v => Rounded(v, bits) == v))) return false;
        int f = model.InputFeatures;
        if (rawRows is not null && (rawRows.Length == 0 || rawRows.Length % f != 0))
            throw SparsePruneException.Argument("InvalidRows", $"The rows to check hold {rawRows.Length} values, not a whole number (at least 1) of rows of the model's {f} inputs.");
        if (rawRows is null)
        {
            data ??= model.Dataset ?? throw SparsePruneException.Argument("DatasetRequired",
                $"Model '{model.Name}' has no data set, and folding its input scaling is checked on rows: give a data set (its training rows are used).");
            ModelInputs.CheckCompatible(model, data);
        }
        return true;
    }

    /// <summary>
    /// Folds <paramref name="model"/>'s input normalization into its first layer, inside a
    /// transaction, when that changes no output by more than <paramref name="tolerance"/> × max(1, largest
    /// |output|) and no predicted class (bar near ties within that bound) on the rows checked: the raw rows
    /// <paramref name="rawRows"/> when given (rows × inputs, in the model's column order), else the
    /// training rows of <paramref name="data"/> (default: the model's data set).
    /// By default the offsets alone: b' = b − W·(offset / scale), the weights unchanged, the inputs
    /// then divided by their scale alone (1 for an input whose every connection is deleted). That is
    /// what pays: a quantized layer keeps its codebook or grid. Fold after quantizing: folded before,
    /// the weights are quantized as they would have been, but their rounding error then meets
    /// uncentred inputs (LeNet-300-100 on Fashion-MNIST, 98 %, 3-bit: 84.30 % quantized then folded,
    /// 84.18 % folded then quantized; 14,385 B before the fold, 11,356 B after). <paramref name="includeScales"/> folds the scales too
    /// (W' = W / scale, b' = b − W'·offset; the model then takes raw rows), which a quantized layer 0
    /// refuses, and which makes a later quantization worse: the weights then span each input's
    /// 1 / scale and k-means spends its few values on the widest columns (LeNet-300-100 on
    /// Fashion-MNIST, 98 %, 3-bit: 84.3 % accuracy quantized as it was, 35.6 % folded whole first).
    /// Values behind a mask are divided by their column's scale too, so a mask lifted later gives
    /// weights on the raw scale; the bias takes only the live weights' share of the offset (a weight
    /// brought back from behind the mask later comes back without its share of the offset, as any
    /// weight regrown is). Deleted connections stay deleted. Biases quantized on a codebook in layer 0
    /// become float32 again (the offsets move them off it): fold before quantizing to keep it.
    /// Refuses, model unchanged: no normalization, no rows, values beyond float32, or outputs that
    /// change. Returns false, unchanged, when there is nothing to fold.
    /// </summary>
    public static bool Fold(Mlp model, Dataset? data = null, float[]? rawRows = null, double tolerance = DefaultTolerance, bool includeScales = false, int? scaleBits = null)
    {
        if (!Check(model, ref data, rawRows, tolerance, includeScales, scaleBits)) return false;
        var scaling = model.Scaling!;
        var first = model.State[0];
        int f = model.InputFeatures;
        bool partial = !includeScales;

        return ModelTransaction.Run(model, () =>
        {
            var before = model.Counts;
            var reference = Outputs(model, data, rawRows);
            var kept = partial ? OffsetFolded(scaling, DeadColumns(first), scaleBits) : InputScaling.Identity(f);
            // The offsets fold against the scales the model keeps: exact at the mean input, whatever the rounding.
            FoldLayer(model, first, partial ? scaling with { Scale = kept.Scale } : scaling, partial);
            model.Scaling = kept;
            var folded = Outputs(model, data, rawRows);
            var (maxDiff, bound, flips, rows) = Compare(reference, folded, model.Outputs, model.Task, tolerance);
            string what = partial ? "offsets" : "input normalization";
            if (maxDiff > bound || flips > 0)
                throw SparsePruneException.Operation("FoldChangesPredictions",
                    $"Folding the {scaling.Kind} {what} of model '{model.Name}' into layer 0 would change its outputs by up to {maxDiff:G3} (the tolerance is {bound:G3})"
                    + (flips > 0 ? $" and {flips} of {rows} predicted classes" : "") + $" on {rows} rows"
                    + (scaleBits is { } sbits
                        ? $": rounding the scales to {sbits} significant bits moves them that much. The model is unchanged; give more -ScaleBits or a larger tolerance."
                        : ", beyond float rounding: a feature with a scale near 0 makes its weights large enough to cancel badly. The model is unchanged; keep the normalization."));
            var settings = new HistorySettings().Add("Normalization", scaling.Kind).Add("IncludeScale", includeScales).Add("ScaleBits", scaleBits).Add("Rows", rows).Add("Tolerance", tolerance);
            model.Record("FoldInputScaling", settings, before, null,
                (partial
                    ? $"the {scaling.Kind} input offsets are folded into layer 0's bias: the model divides raw rows by the scales alone (1 for the inputs no connection reads{(scaleBits is { } sb ? $"; the others rounded to {sb} significant bits" : "")})"
                    : $"the {scaling.Kind} input normalization is folded into layer 0: the model takes raw rows")
                + $"; largest output change {maxDiff:G3} on {rows} {(rawRows is null ? "training " : "")}rows");
            return true;
        });
    }

    /// <summary>Offsets all 0 and scales all 1 (when only the offsets fold: those of the inputs no connection reads).</summary>
    private static bool NothingToFold(InputScaling scaling, bool offsetOnly, bool[] dead) =>
        scaling.Offset.All(v => v == 0f) && scaling.Scale.Select((v, c) => v == 1f || (offsetOnly && !dead[c])).All(ok => ok);

    /// <summary>
    /// The inputs whose every connection into layer 0 is deleted: nothing reads them, and a deleted
    /// connection never comes back (regrowth works on masks), so their statistics are free to
    /// be 0 and 1, which a file compresses to nothing (150 of 784 Fashion-MNIST pixels at 98 %).
    /// </summary>
    private static bool[] DeadColumns(LayerState layer)
    {
        if (layer.Deleted is not { } deleted) return new bool[layer.InFeatures];
        using var scope = NewDisposeScope();
        return deleted.to_type(ScalarType.Bool).all(0).cpu().data<bool>().ToArray();
    }

    /// <summary>
    /// The scaling left when only the offsets fold: offsets 0, the scales of inputs nothing reads 1,
    /// the others rounded to <paramref name="scaleBits"/> significant bits when given (a float32 scale
    /// is 4 bytes no coder shrinks; rounded to 10 bits, a float16's precision, LeNet-300-100's 634
    /// live scales compress to about half and its accuracy did not move).
    /// </summary>
    private static InputScaling OffsetFolded(InputScaling scaling, bool[] dead, int? scaleBits) =>
        new(scaling.Kind, new float[dead.Length], scaling.Scale.Select((v, c) => dead[c] ? 1f : scaleBits is { } b ? Rounded(v, b) : v).ToArray());

    /// <summary><paramref name="value"/> rounded to <paramref name="bits"/> mantissa bits (half away from zero), the exponent kept; the value itself where rounding would overflow.</summary>
    internal static float Rounded(float value, int bits)
    {
        if (bits >= 23 || !float.IsFinite(value)) return value;
        int drop = 23 - bits;
        int raw = BitConverter.SingleToInt32Bits(value);
        int rounded = (raw + (1 << (drop - 1))) & ~((1 << drop) - 1);
        float result = BitConverter.Int32BitsToSingle(rounded);
        return float.IsFinite(result) && result != 0 ? result : value;
    }

    /// <summary>Offsets all 0 and scales all 1: nothing to fold.</summary>
    public static bool IsIdentity(InputScaling scaling) => scaling.Offset.All(v => v == 0f) && scaling.Scale.All(v => v == 1f);

    private static void FoldLayer(Mlp model, LayerState layer, InputScaling scaling, bool offsetOnly)
    {
        int outF = layer.OutFeatures, inF = layer.InFeatures;
        var w = Floats(layer.Weight);
        var b = Floats(layer.Bias);
        if (!FoldArrays(w, b, outF, inF, scaling.Offset, scaling.Scale, offsetOnly))
            throw TooLarge(model);
        // The offsets move the biases off a codebook they were on: they are float32 again.
        layer.BiasCodebook = null;
        if (offsetOnly)
        {
            // The weights (on their codebook or grid) and the values behind a mask stay as they are.
            using var s = NewDisposeScope();
            layer.SetBias(tensor(b, new long[] { outF }).to(layer.Bias.dtype).to(layer.Bias.device).DetachFromDisposeScope());
            return;
        }
        float[]? hidden = null;
        if (layer.MaskedValues is { } masked)
        {
            // Values behind the mask are on the normalized scale too: divide them, add nothing to the bias.
            hidden = Floats(masked);
            for (int k = 0; k < hidden.Length; k++)
                if (hidden[k] != 0f) hidden[k] = (float)(hidden[k] / (double)scaling.Scale[k % inF]);
            if (!hidden.All(float.IsFinite)) throw TooLarge(model);
        }
        using var scope = NewDisposeScope();
        var device = layer.Weight.device;
        var dtype = layer.Weight.dtype;
        layer.SetWeight(tensor(w, new long[] { outF, inF }).to(dtype).to(device).DetachFromDisposeScope());
        layer.SetBias(tensor(b, new long[] { outF }).to(layer.Bias.dtype).to(device).DetachFromDisposeScope());
        if (hidden is not null)
            layer.SetMask(layer.Keep!.clone().DetachFromDisposeScope(), tensor(hidden, new long[] { outF, inF }).to(dtype).to(device).DetachFromDisposeScope());
    }

    private static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        var values = new float[t.numel()];
        NativeCopy.ToArray(t.detach().to_type(ScalarType.Float32).cpu().contiguous(), values);
        return values;
    }

    private static SparsePruneException TooLarge(Mlp model) => SparsePruneException.Operation("CannotFoldNormalization",
        $"Folding the input normalization of model '{model.Name}' into its first layer gives values too large for float32 (a feature's scale is nearly 0). The model is unchanged; keep the normalization.");

    /// <summary>The model's outputs (rows × outputs) on the rows checked, through the path prediction takes.</summary>
    private static float[] Outputs(Mlp model, Dataset? data, float[]? rawRows)
    {
        int f = model.InputFeatures;
        var rows = rawRows ?? data!.TrainX;
        int n = rows.Length / f;
        var result = new float[(long)n * model.Outputs];
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(Chunk, n - start);
            var slice = rows.AsSpan((int)((long)start * f), count * f).ToArray();
            if (rawRows is null) slice = ModelInputs.For(model, data!, slice);
            var x = NativeCopy.Floats(slice, new long[] { count, f }).to(model.TorchDevice);
            if (rawRows is not null) x = model.NormalizeInputs(x);
            var y = model.Forward(x).to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            y.CopyTo(result, (long)start * model.Outputs);
        }
        return result;
    }

    /// <summary>The largest output change, its bound, the predicted classes that changed outside near ties, and the rows.</summary>
    private static (double MaxDiff, double Bound, int Flips, int Rows) Compare(float[] a, float[] b, int outputs, TaskKind task, double tolerance)
    {
        int n = a.Length / outputs;
        double maxDiff = 0, maxAbs = 0;
        for (long k = 0; k < a.LongLength; k++)
        {
            maxDiff = Math.Max(maxDiff, double.IsFinite(b[k]) ? Math.Abs((double)a[k] - b[k]) : double.PositiveInfinity);
            maxAbs = Math.Max(maxAbs, Math.Abs((double)a[k]));
        }
        double bound = tolerance * Math.Max(1, maxAbs);
        int flips = 0;
        if (task == TaskKind.Classification)
            for (int r = 0; r < n; r++)
            {
                int ia = ArgMax(a, r, outputs), ib = ArgMax(b, r, outputs);
                // Two classes whose outputs are within the bound are a tie float rounding may break either way.
                if (ia != ib && a[(long)r * outputs + ia] - a[(long)r * outputs + ib] > bound) flips++;
            }
        return (maxDiff, bound, flips, n);
    }

    private static int ArgMax(float[] v, int row, int width)
    {
        long o = (long)row * width;
        int best = 0;
        for (int j = 1; j < width; j++) if (v[o + j] > v[o + best]) best = j;
        return best;
    }
}
