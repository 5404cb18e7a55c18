using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// What the writer's tests share: a file run in ONNX Runtime (Microsoft.ML.OnnxRuntime, a test
/// dependency only) on raw rows and compared with the model's own forward pass, the file parsed
/// back through the generated message classes, raw float32 initializers decoded.
/// </summary>
public static class OnnxExportKit
{
    internal const double Tolerance = 1e-5;

    // ---- ONNX Runtime -------------------------------------------------------------------------

    internal sealed record RunResult(Dictionary<string, float[]> Outputs, Dictionary<string, int[]> Shapes);

    internal static RunResult Run(byte[] file, float[] raw, int rows, int features)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(file, options);
        var input = new DenseTensor<float>(raw.AsMemory(0, rows * features), new[] { rows, features });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(OnnxWriter.InputName, input) });
        var outputs = new Dictionary<string, float[]>();
        var shapes = new Dictionary<string, int[]>();
        foreach (var r in results)
        {
            var t = r.AsTensor<float>();
            outputs[r.Name] = t.ToArray();
            shapes[r.Name] = t.Dimensions.ToArray();
        }
        return new RunResult(outputs, shapes);
    }

    /// <summary>The model's own outputs for raw rows: its normalization, then its forward pass (float32).</summary>
    internal static float[] ModelOutputs(Mlp model, float[] raw, int rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(raw.AsSpan(0, rows * model.InputFeatures).ToArray(), new long[] { rows, model.InputFeatures });
        return model.Forward(model.NormalizeInputs(x)).data<float>().ToArray();
    }

    internal static float[] ModelProbabilities(Mlp model, float[] raw, int rows) =>
        Predictor.Predict(model, raw.AsSpan(0, rows * model.InputFeatures).ToArray(), rows).Cast<ClassPrediction>().SelectMany(p => p.Probabilities.Select(v => (float)v)).ToArray();

    internal static void Close(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double limit = Tolerance * Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= limit, $"{what}[{i}]: ONNX Runtime {actual[i]:R}, model {expected[i]:R}");
        }
    }

    /// <summary>Exports, runs the file in ONNX Runtime on <paramref name="raw"/> and compares every output with the model's.</summary>
    internal static byte[] ExportAndCompare(Mlp model, float[] raw, int rows, OnnxExportOptions? options = null, string what = "")
    {
        var file = OnnxFormat.ToBytes(model, options);
        var run = Run(file, raw, rows, model.InputFeatures);
        var expected = ModelOutputs(model, raw, rows);
        if (model.Task == TaskKind.Classification)
        {
            Assert.Equal(new[] { OnnxWriter.LogitsName, OnnxWriter.ProbabilitiesName }, run.Outputs.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(new[] { rows, model.Outputs }, run.Shapes[OnnxWriter.LogitsName]);
            Assert.Equal(new[] { rows, model.Outputs }, run.Shapes[OnnxWriter.ProbabilitiesName]);
            Close(expected, run.Outputs[OnnxWriter.LogitsName], what + " logits");
            Close(ModelProbabilities(model, raw, rows), run.Outputs[OnnxWriter.ProbabilitiesName], what + " probabilities");
        }
        else
        {
            Assert.Equal(new[] { OnnxWriter.OutputName }, run.Outputs.Keys);
            Assert.Equal(new[] { rows, model.Outputs }, run.Shapes[OnnxWriter.OutputName]);
            Close(expected, run.Outputs[OnnxWriter.OutputName], what + " output");
        }
        return file;
    }


    internal static Onnx.ModelProto Parse(byte[] file) => Onnx.ModelProto.Parser.ParseFrom(file);

    internal static Mlp Trained(Dataset data, int[] widths, Activation activation, int seed)
    {
        var model = Mlp.Create(widths, activation, seed: seed, name: $"onnx-{activation}-{seed}");
        Trainer.Train(model, data, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = 1 });
        return model;
    }

    /// <summary>A Digits classifier, 64-48-32-10 ReLU, trained briefly.</summary>
    internal static Mlp DigitsModel(int seed)
    {
        var data = TestKit.Digits;
        return Trained(data, new[] { 64, 48, 32, 10 }, Activation.ReLU, seed);
    }

    internal static float[] RawFloats(Onnx.TensorProto t)
    {
        var bytes = t.RawData.Span;
        var v = new float[bytes.Length / 4];
        for (int i = 0; i < v.Length; i++) v[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i, 4));
        return v;
    }
}
