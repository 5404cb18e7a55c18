using System.Globalization;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Invoke-Quantization: the present non-zero weights of every layer take one of a few values
/// (k-means weight sharing, or a per-row linear grid); zeros, masks and deletions are left as
/// they are. Fine-tuning afterwards trains the shared values (<see cref="SharedGradients"/>).
/// Quantize last: a quantized model refuses to be sparsified or pruned.
/// </summary>
public static class Quantizer
{
    public static QuantizationPlan Plan(Mlp model, QuantizationRequest request)
    {
        request.Validate(model);
        var bits = request.BitsPerLayer(model.LayerCount);
        var layers = new List<LayerQuantization>();
        var present = new List<long>();
        for (int l = 0; l < model.LayerCount; l++)
        {
            var w = Weights(model.State[l]);
            present.Add(w.Count(v => v != 0));
            layers.Add(request.Method == QuantizationMethod.KMeans
                ? new LayerQuantization(QuantizationMethod.KMeans, bits[l], KMeans1D.Centroids(w.Where(v => v != 0).ToArray(), 1 << bits[l]))
                : LinearGrid(w, model.State[l].OutFeatures, model.State[l].InFeatures, bits[l]));
        }
        return new QuantizationPlan(request, layers, present);
    }

    /// <summary>Checks the fine-tuning a quantization is asked for (what -WhatIf must refuse too).</summary>
    public static void CheckFineTune(QuantizationRequest request, int fineTuneEpochs, Dataset? data, Mlp model)
    {
        if (fineTuneEpochs < 0) throw SparsePruneException.Argument("InvalidEpochs", $"-FineTuneEpochs must be 0 or more; got {fineTuneEpochs}.");
        if (fineTuneEpochs > 0 && request.Method == QuantizationMethod.Linear)
            throw SparsePruneException.Argument("ParameterNotApplicable", "-FineTuneEpochs trains shared values (-Method KMeans); a linear grid has none to train.");
        if (fineTuneEpochs > 0 && data is null)
            throw SparsePruneException.Argument("NoDataset", $"-FineTuneEpochs needs data: model '{model.Name}' has not been trained on a data set, so give -Dataset.");
    }

    /// <summary>Quantizes every layer, records it, then fine-tunes the shared values when asked; all or nothing.</summary>
    public static TrainingResult? Apply(Mlp model, QuantizationPlan plan, Dataset? data, int fineTuneEpochs = 0, TrainingOptions? fineTune = null,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        CheckFineTune(plan.Request, fineTuneEpochs, data, model);
        if (data is not null) ModelInputs.CheckCompatible(model, data);
        var before = model.Counts;
        return model.Transact(() =>
        {
            model.EnsureBaseline(data);
            var metricBefore = data is null ? null : Evaluator.Evaluate(model, data);
            for (int l = 0; l < model.LayerCount; l++) Quantize(model.State[l], plan.Layers[l]);
            var metric = data is null ? null : Evaluator.Evaluate(model, data);
            var note = string.Join("; ", plan.Layers.Select((q, i) => $"layer {i}: {q}"))
                + (metricBefore is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; {metricBefore.Name} before {metricBefore.Value:0.####}"));
            model.Record("Quantize", plan.Request.Describe(model.LayerCount), before, metric, note);
            if (fineTuneEpochs == 0) return null;
            var options = (fineTune ?? new TrainingOptions()) with { Epochs = fineTuneEpochs, Operation = "FineTune" };
            return Trainer.Train(model, data!, options, progress, cancel);
        });
    }

    /// <summary>Refuses to change the weights of a quantized model in ways that would break the sharing.</summary>
    internal static void RefuseIfQuantized(Mlp model, string what)
    {
        if (model.State.Any(l => l.Quantization is not null))
            throw SparsePruneException.Operation("ModelQuantized",
                $"Model '{model.Name}' is quantized: {what} would break its shared weights. Sparsify and prune before Invoke-Quantization (it comes last), or train with Invoke-Training -Dequantize first to go back to free weights.");
    }

    /// <summary>Sets every present non-zero weight of the layer to its quantized value and keeps the quantization.</summary>
    private static void Quantize(LayerState layer, LayerQuantization q)
    {
        using var scope = NewDisposeScope();
        int outF = layer.OutFeatures, inF = layer.InFeatures;
        var w = Weights(layer);
        for (int r = 0; r < outF; r++)
            for (int c = 0; c < inF; c++)
            {
                long i = (long)r * inF + c;
                if (w[i] != 0) w[i] = Value(q, r, w[i]);
            }
        layer.SetWeight(NativeCopy.Floats(w, new long[] { outF, inF }).DetachFromDisposeScope());
        layer.Quantization = q;
    }

    /// <summary>The quantized value of weight <paramref name="v"/> of row <paramref name="row"/>.</summary>
    internal static float Value(LayerQuantization q, int row, float v)
    {
        if (q.Method == QuantizationMethod.KMeans) return q.Codebook[KMeans1D.Nearest(q.Codebook, v)];
        return (Code(q, row, v) - q.RowZeroPoints![row]) * q.RowScales![row];
    }

    /// <summary>Linear: the integer level of <paramref name="v"/> in row <paramref name="row"/>'s grid.</summary>
    internal static int Code(LayerQuantization q, int row, float v)
    {
        int qmin = -(1 << (q.Bits - 1)), qmax = (1 << (q.Bits - 1)) - 1;
        float scale = q.RowScales![row];
        return scale == 0 ? q.RowZeroPoints![row] : Math.Clamp((int)MathF.Round(v / scale) + q.RowZeroPoints![row], qmin, qmax);
    }

    /// <summary>
    /// Per output row, an affine grid of 2^bits levels over [min(row, 0), max(row, 0)], so that 0 is
    /// a level exactly (zeros and masked weights stay 0): scale = (max − min) / (2^bits − 1).
    /// </summary>
    private static LayerQuantization LinearGrid(float[] w, int outF, int inF, int bits)
    {
        var scales = new float[outF];
        var zeros = new int[outF];
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        for (int r = 0; r < outF; r++)
        {
            float min = 0, max = 0;
            for (int c = 0; c < inF; c++) { var v = w[(long)r * inF + c]; min = Math.Min(min, v); max = Math.Max(max, v); }
            float scale = (max - min) / (qmax - qmin);
            scales[r] = scale;
            zeros[r] = scale == 0 ? 0 : Math.Clamp(qmin - (int)MathF.Round(min / scale), qmin, qmax);
        }
        return new LayerQuantization(QuantizationMethod.Linear, bits, Array.Empty<float>(), scales, zeros);
    }

    private static float[] Weights(LayerState layer)
    {
        var w = new float[layer.DenseWeights];
        NativeCopy.ToArray(layer.Weight, w);
        return w;
    }
}
