// The bare TorchSharp floor for bench/perf.ps1. Prints one JSON object.
//   train-epoch <stage-dir> <idx-folder> <widths> <batch> <sparsity>
//       one Adam epoch (lr 1e-3) over the IDX training set, batches index tensors in native
//       memory; with sparsity > 0 a magnitude mask per layer is held like Invoke-Training holds it
//       (the weights multiplied by the mask after each step).
//   infer <stage-dir> <widths> <batch> <repeat>
//       median forward time of nn.Linear/ReLU layers of the given widths at one batch size.
//   profile <stage-dir> <idx-folder> <widths> <batch>
//       the bare epoch split into forward, backward and optimizer step (where the time goes).
//   core-epoch <stage-dir> <batch>
//       one epoch of SparsePrune's own Trainer on LeNet-300-100, outside PowerShell.
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

SparsePrune.NativeLibraries.LoadFrom(args[1]);
SparsePrune.NativeLibraries.ApplyThreadSetting();
int threads = torch.get_num_threads();
var result = args[0] switch
{
    "train-epoch" => TrainEpoch(args[2], Widths(args[3]), int.Parse(args[4]), double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture)),
    "core-epoch" => CoreEpoch(int.Parse(args[2])),
    "profile" => Profile(args[2], Widths(args[3]), int.Parse(args[4])),
    "infer" => Infer(Widths(args[2]), int.Parse(args[3]), int.Parse(args[4])),
    _ => throw new ArgumentException($"unknown task {args[0]}"),
};
result["threads"] = threads;
Console.WriteLine(JsonSerializer.Serialize(result));

static int[] Widths(string s) => s.Split(',').Select(int.Parse).ToArray();

static nn.Module<Tensor, Tensor> Mlp(int[] widths)
{
    var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
    for (int i = 0; i + 1 < widths.Length; i++)
    {
        layers.Add(($"{2 * i}", nn.Linear(widths[i], widths[i + 1])));
        if (i + 2 < widths.Length) layers.Add(($"{2 * i + 1}", nn.ReLU()));
    }
    return nn.Sequential(layers);
}

static byte[] ReadIdx(string path, out int rows, out int cols)
{
    using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var ms = new MemoryStream();
    gz.CopyTo(ms);
    var data = ms.ToArray();
    int Be(int o) => (data[o] << 24) | (data[o + 1] << 16) | (data[o + 2] << 8) | data[o + 3];
    int dims = data[3];
    rows = Be(4);
    cols = 1;
    for (int d = 1; d < dims; d++) cols *= Be(4 + 4 * d);
    return data[(4 + 4 * dims)..];
}

static Dictionary<string, object> TrainEpoch(string folder, int[] widths, int batch, double sparsity)
{
    var pixels = ReadIdx(Path.Combine(folder, "train-images-idx3-ubyte.gz"), out int n, out int f);
    var labels = ReadIdx(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), out _, out _);
    torch.manual_seed(1);
    var x = tensor(pixels.Select(b => (float)b).ToArray(), new long[] { n, f });
    x = (x - x.mean(new long[] { 0 })) / x.std(0).clamp_min(1e-6);
    var y = tensor(labels.Select(b => (long)b).ToArray());
    var model = Mlp(widths);
    var weights = model.parameters().Where(p => p.dim() == 2).ToList();
    var masks = new List<Tensor>();
    if (sparsity > 0)
        using (no_grad())
            foreach (var w in weights)
            {
                var (kth, _) = w.abs().reshape(-1).kthvalue((long)(sparsity * w.numel()), 0);
                var m = w.abs().gt(kth).to_type(ScalarType.Float32);
                w.mul_(m);
                masks.Add(m);
            }
    // Warm-up on a throwaway model (JIT, allocator), as SparsePrune's timed call is preceded by one.
    {
        var spare = Mlp(widths);
        var spareOpt = optim.Adam(spare.parameters(), 1e-3);
        for (int s = 0; s < 10 * batch; s += batch)
        {
            using var scope = NewDisposeScope();
            var idx = arange(s, s + batch);
            spareOpt.zero_grad();
            nn.functional.cross_entropy(spare.call(x.index_select(0, idx)), y.index_select(0, idx)).backward();
            spareOpt.step();
        }
    }
    var opt = optim.Adam(model.parameters(), 1e-3);
    var watch = Stopwatch.StartNew();
    var perm = randperm(n);
    double last = 0;
    for (int s = 0; s < n; s += batch)
    {
        using var scope = NewDisposeScope();
        var idx = perm.narrow(0, s, Math.Min(batch, n - s));
        opt.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(x.index_select(0, idx)), y.index_select(0, idx));
        loss.backward();
        opt.step();
        using (no_grad()) for (int l = 0; l < masks.Count; l++) weights[l].mul_(masks[l]);
        last = loss.item<float>();
    }
    return new() { ["task"] = "train-epoch", ["seconds"] = watch.Elapsed.TotalSeconds, ["loss"] = last, ["widths"] = widths, ["batch"] = batch, ["sparsity"] = sparsity };
}

static Dictionary<string, object> Profile(string folder, int[] widths, int batch)
{
    var pixels = ReadIdx(Path.Combine(folder, "train-images-idx3-ubyte.gz"), out int n, out int f);
    var labels = ReadIdx(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), out _, out _);
    var x = tensor(pixels.Select(b => (float)b).ToArray(), new long[] { n, f });
    x = (x - x.mean(new long[] { 0 })) / x.std(0).clamp_min(1e-6);
    var y = tensor(labels.Select(b => (long)b).ToArray());
    var model = Mlp(widths);
    var opt = optim.Adam(model.parameters(), 1e-3);
    var perm = randperm(n);
    double fwd = 0, bwd = 0, step = 0;
    var total = Stopwatch.StartNew();
    for (int s = 0; s < n; s += batch)
    {
        using var scope = NewDisposeScope();
        var idx = perm.narrow(0, s, Math.Min(batch, n - s));
        var w = Stopwatch.StartNew();
        opt.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(x.index_select(0, idx)), y.index_select(0, idx));
        fwd += w.Elapsed.TotalSeconds; w.Restart();
        loss.backward();
        bwd += w.Elapsed.TotalSeconds; w.Restart();
        opt.step();
        step += w.Elapsed.TotalSeconds;
    }
    return new() { ["task"] = "profile", ["total"] = total.Elapsed.TotalSeconds, ["forward"] = fwd, ["backward"] = bwd, ["step"] = step };
}

static Dictionary<string, object> CoreEpoch(int batch)
{
    var data = SparsePrune.DatasetLoader.Get("FashionMnist", new SparsePrune.DatasetOptions { Seed = 1 });
    var model = SparsePrune.Mlp.Create(new[] { 784, 300, 100, 10 }, seed: 1);
    // The data set's native copy is made before the timer, as the other loops make their tensors.
    SparsePrune.Trainer.Train(model.Clone(), data, new SparsePrune.TrainingOptions { Epochs = 0, BatchSize = batch, Seed = 1 });
    var watch = Stopwatch.StartNew();
    SparsePrune.Trainer.Train(model, data, new SparsePrune.TrainingOptions { Epochs = 1, BatchSize = batch, Seed = 1 });
    return new() { ["task"] = "core-epoch", ["seconds"] = watch.Elapsed.TotalSeconds };
}

static Dictionary<string, object> Infer(int[] widths, int batch, int repeat)
{
    torch.manual_seed(1);
    var model = Mlp(widths);
    model.eval();
    var x = randn(batch, widths[0]);
    var times = new List<double>();
    using (no_grad())
    {
        for (int i = 0; i < 5; i++) { using var s = NewDisposeScope(); model.call(x); }
        for (int i = 0; i < repeat; i++)
        {
            using var s = NewDisposeScope();
            var w = Stopwatch.StartNew();
            model.call(x);
            times.Add(w.Elapsed.TotalMilliseconds);
        }
    }
    times.Sort();
    return new() { ["task"] = "infer", ["medianMs"] = times[times.Count / 2], ["widths"] = widths, ["batch"] = batch, ["repeat"] = repeat };
}
