// bench/inference.ps1's timer: SparsePrune's forward and ONNX Runtime side by side in ONE process,
// the two sides alternating round by round, so that a noisy moment on a shared machine hits both.
// Prints one JSON object.
//   compare <stage-dir> <model.spmlp> <model.onnx> <batches> <rounds> <repeats> <threads> [optimize]
//       per batch size (with "optimize": the kernels first chosen as Optimize-Mlp -BatchSize
//       chooses them; without, the model's own choice, as Invoke-Mlp runs it), then
//       <rounds> rounds, each one series (that batch's entry in <repeats> runs) of SparsePrune's forward (KernelTuner.MeasureLatency, the
//       path Measure-Mlp -Latency times) and one of ONNX Runtime's Run on the export (<threads>
//       intra-op threads), the side that goes first swapped every round. Medians of the rounds'
//       medians, and the median of the rounds' ratios.
//   forms <stage-dir> <model.onnx> <model.sparse.onnx> <batches> <rounds> <repeat> <threads> <work-dir>
//       the deployment question: the export rewritten into ONNX forms that might let ONNX Runtime
//       skip a connection-pruned layer's zeros, each checked against the dense-initializer export's
//       outputs and timed beside it, alternating (see OnnxForms).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

SparsePrune.NativeLibraries.LoadFrom(args[1]);
SparsePrune.NativeLibraries.ApplyThreadSetting();
var result = args[0] switch
{
    "compare" => Bench.Compare(args[2], args[3], Ints(args[4]), int.Parse(args[5]), Ints(args[6]), int.Parse(args[7]), args.Length > 8 && args[8] == "optimize"),
    "forms" => OrtTiming.OnnxForms.Run(args[2], args[3], Ints(args[4]), int.Parse(args[5]), int.Parse(args[6]), int.Parse(args[7]), args[8]),
    _ => throw new ArgumentException($"unknown task {args[0]}"),
};
result["libtorchThreads"] = TorchSharp.torch.get_num_threads();
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));

static int[] Ints(string s) => s.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();

static class Bench
{
    /// <summary>Untimed runs before each series: the other side's thread pool winds down meanwhile.</summary>
    public const int Warmup = 2;

    public static Dictionary<string, object> Compare(string spmlp, string onnx, int[] batches, int rounds, int[] repeats, int threads, bool optimize)
    {
        var model = SparsePrune.ModelFile.Load(spmlp);
        using var session = Session(onnx, threads);
        var rows = new List<Dictionary<string, object>>();
        for (int bi = 0; bi < batches.Length; bi++)
        {
            int batch = batches[bi], repeat = repeats[Math.Min(bi, repeats.Length - 1)];
            // Optimize-Mlp -BatchSize: each layer stored sparse takes the kernel that measures faster here.
            var decisions = new List<SparsePrune.KernelDecision>();
            if (optimize && model.Layers.Any(l => l.Stored == SparsePrune.LayerStorage.Sparse))
            {
                decisions = SparsePrune.KernelTuner.Optimize(model, batch);
                SparsePrune.KernelTuner.Apply(model, decisions, batch: batch);
            }
            var x = Rows(model.InputFeatures, batch, 7);
            double diff = MaxDifference(model, session, x, batch);
            var ours = new List<double>();
            var theirs = new List<double>();
            double oursMin = double.MaxValue, theirsMin = double.MaxValue;
            string kernels = "";
            for (int r = 0; r < rounds; r++)
            {
                // Alternate the order too: whichever side runs second inherits the first one's cache state and spinning threads.
                for (int side = 0; side < 2; side++)
                {
                    if ((side + r) % 2 == 0)
                    {
                        var m = SparsePrune.KernelTuner.MeasureLatency(model, new[] { batch }, null, repeat, Warmup)[0];
                        ours.Add(m.MedianMs);
                        oursMin = Math.Min(oursMin, m.MinMs);
                        kernels = string.Join(",", m.Kernels);
                    }
                    else
                    {
                        var (median, min) = TimeOrt(session, x, batch, repeat, Warmup);
                        theirs.Add(median);
                        theirsMin = Math.Min(theirsMin, min);
                    }
                }
            }
            var ratios = ours.Zip(theirs, (a, b) => a / b).ToArray();
            rows.Add(new Dictionary<string, object>
            {
                ["batch"] = batch, ["sparsePruneMs"] = Median(ours), ["ortMs"] = Median(theirs),
                ["ratio"] = Median(ratios), ["ratioMin"] = ratios.Min(), ["ratioMax"] = ratios.Max(),
                // The fastest single pass of each side: what each reaches when nothing else on the machine interrupts it.
                ["sparsePruneBestMs"] = oursMin, ["ortBestMs"] = theirsMin, ["ratioOfBest"] = oursMin / theirsMin,
                ["sparsePruneRoundMs"] = ours, ["ortRoundMs"] = theirs, ["kernels"] = kernels, ["optimize"] = decisions.Select(d => d.ToString()).ToArray(), ["maxProbabilityDifference"] = diff,
            });
        }
        return new Dictionary<string, object>
        {
            ["model"] = model.Name, ["widths"] = model.Widths, ["sparsity"] = model.Sparsity, ["rounds"] = rounds, ["repeats"] = repeats,
            ["ortThreads"] = threads, ["ortVersion"] = OrtEnv.Instance().GetVersionString(), ["results"] = rows,
        };
    }

    public static InferenceSession Session(string path, int threads)
    {
        // ONNX Runtime's ordinary CPU setting, at the thread count SparsePrune runs at.
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(path, options);
    }

    /// <summary>Seeded standard-normal rows (what Measure-Mlp feeds a model without a data set).</summary>
    public static float[] Rows(int features, int batch, int seed)
    {
        var rng = new Random(seed);
        var v = new float[(long)batch * features];
        for (long i = 0; i < v.LongLength; i++)
            v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }

    /// <summary>Median and fastest ms of <paramref name="repeat"/> Run calls after <paramref name="warmup"/> untimed ones.</summary>
    public static (double Median, double Min) TimeOrt(InferenceSession session, float[] x, int batch, int repeat, int warmup)
    {
        var input = session.InputMetadata.Keys.Single();
        var shape = new long[] { batch, x.Length / batch };
        using var value = OrtValue.CreateTensorValueFromMemory(x, shape);
        var names = new[] { input };
        var values = new[] { value };
        var outputs = session.OutputMetadata.Keys.ToArray();
        using var options = new RunOptions();
        for (int i = 0; i < warmup; i++) session.Run(options, names, values, outputs).Dispose();
        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            session.Run(options, names, values, outputs).Dispose();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        return (Median(times), times.Min());
    }

    public static float[] RunOrt(InferenceSession session, float[] x, int batch, string output)
    {
        var input = session.InputMetadata.Keys.Single();
        using var value = OrtValue.CreateTensorValueFromMemory(x, new long[] { batch, x.Length / batch });
        using var options = new RunOptions();
        using var results = session.Run(options, new[] { input }, new[] { value }, new[] { output });
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Largest |difference| between Invoke-Mlp's probabilities (Predictor) and ONNX Runtime's on the same rows.</summary>
    private static double MaxDifference(SparsePrune.Mlp model, InferenceSession session, float[] x, int batch)
    {
        if (model.Task != SparsePrune.TaskKind.Classification) return double.NaN;
        var ours = SparsePrune.Predictor.Predict(model, x, batch).Cast<SparsePrune.ClassPrediction>().SelectMany(p => p.Probabilities).ToArray();
        var theirs = RunOrt(session, x, batch, "probabilities");
        double max = 0;
        for (int i = 0; i < ours.Length; i++) max = Math.Max(max, Math.Abs(ours[i] - theirs[i]));
        return max;
    }

    public static double Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(v => v).ToArray();
        int n = s.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
