using System.Collections.Immutable;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A multi-layer perceptron: linear layers with one activation between them, a task
/// (classification: logits, one per class; regression: one output), the feature
/// normalization it was trained with, its baseline and its history. Model operations change
/// the object in place; <see cref="Clone"/> makes an independent copy. An instance holds no
/// state tied to a thread or runspace.
/// </summary>
public sealed class Mlp
{
    internal const int MaxWidth = 1 << 20;
    internal const long MaxWeights = 1L << 31;

    private readonly List<LayerState> _layers;
    private ModelHistory _history = new();
    private readonly ModelAccess _access = new();

    /// <summary>
    /// Read (<paramref name="change"/> false) or sole access for <paramref name="operation"/> until
    /// disposed; ModelBusy when another thread holds the model otherwise (see <see cref="ModelAccess"/>).
    /// </summary>
    internal IDisposable Enter(bool change, string operation) => _access.Enter(change, operation, Name);

    internal Mlp(string name, Activation activation, TaskKind task, int seed, List<LayerState> layers)
    {
        Name = name;
        Activation = activation;
        Task = task;
        Seed = seed;
        _layers = layers;
    }

    public string Name { get; set; }
    public Activation Activation { get; }
    public TaskKind Task { get; }
    /// <summary>The seed the initial weights were drawn with.</summary>
    public int Seed { get; }
    /// <summary>Where the tensors live (read from the weights); data is moved here for training and inference.</summary>
    public string Device => TorchDevice.ToString();
    internal torch.Device TorchDevice => _layers[0].Weight.device;

    /// <summary>All widths, input first (e.g. 64,128,64,10).</summary>
    public int[] Widths => new[] { _layers[0].InFeatures }.Concat(_layers.Select(l => l.OutFeatures)).ToArray();
    public int InputFeatures => _layers[0].InFeatures;
    public int Outputs => _layers[^1].OutFeatures;
    public int LayerCount => _layers.Count;

    public IReadOnlyList<MlpLayerInfo> Layers => _layers.Select((l, i) =>
    {
        long present = l.PresentWeights, nz = l.NonZeroWeights;
        return new MlpLayerInfo
        {
            Index = i, InFeatures = l.InFeatures, OutFeatures = l.OutFeatures, Weights = present,
            NonZeroWeights = nz, Sparsity = present == 0 ? 0 : (double)(present - nz) / present, Stored = l.Stored,
            Kernel = l.Stored == LayerStorage.Dense ? LayerKernel.Dense : l.Kernel,
            Bits = l.Quantization?.Bits, Quantization = l.Quantization?.ToString(),
        };
    }).ToList();

    public long Weights => _layers.Sum(l => l.PresentWeights);
    public long NonZeroWeights => _layers.Sum(l => l.NonZeroWeights);
    /// <summary>Zeros among the weights present now: a model whose pruned connections are deleted reads 0 here.</summary>
    public double Sparsity { get { var w = Weights; return w == 0 ? 0 : (double)(w - NonZeroWeights) / w; } }
    /// <summary>
    /// The share of the original weights (before the first sparsify or prune step) that are zero
    /// or deleted: 1 − NonZeroWeights / baseline weights, the figure a pruned model is judged by.
    /// </summary>
    public double OverallSparsity { get { long n = Baseline?.Weights ?? Weights; return n == 0 ? 0 : 1 - (double)NonZeroWeights / n; } }
    /// <summary>Weights and biases present now.</summary>
    public long Parameters => _layers.Sum(l => l.PresentWeights + l.OutFeatures);
    public long NonZeroParameters => _layers.Sum(l => l.NonZeroWeights + l.NonZeroBiases);
    public long HiddenNeurons => _layers.Take(_layers.Count - 1).Sum(l => (long)l.OutFeatures);

    /// <summary>The data set the model was last trained on; later cmdlets use it by default.</summary>
    public Dataset? Dataset { get; internal set; }
    /// <summary>
    /// The name of the data set the file this model was read from names (a model read from a file
    /// has no data set until one is given): written back as it was, so that a model exported,
    /// imported and exported again gives the same bytes.
    /// </summary>
    internal string? DatasetNameFromFile { get; set; }
    /// <summary>Counts and metric recorded before the first sparsify or prune step.</summary>
    public ModelBaseline? Baseline { get; internal set; }
    public IReadOnlyList<HistoryRecord> History => _history.Records;

    /// <summary>Names of the input features, when known from a data set.</summary>
    public string[]? FeatureNames { get; internal set; }
    /// <summary>Class labels, output index order (classification only).</summary>
    public string[]? ClassNames { get; internal set; }
    /// <summary>Raw inputs are mapped to (x − offset) / scale before the first layer.</summary>
    internal InputScaling? Scaling { get; set; }
    internal float[]? FeatureOffset => Scaling?.Offset;
    internal float[]? FeatureScale => Scaling?.Scale;
    public Normalization InputNormalization => Scaling?.Kind ?? Normalization.None;

    internal IReadOnlyList<LayerState> State => _layers;

    public static Mlp Create(int[] widths, Activation? activation = null, TaskKind? task = null, int? seed = null, string? name = null)
    {
        ValidateWidths(widths);
        var t = task ?? (widths[^1] == 1 ? TaskKind.Regression : TaskKind.Classification);
        if (t == TaskKind.Classification && widths[^1] < 2)
            throw SparsePruneException.Argument("ClassificationNeedsTwoOutputs",
                $"A classifier needs one output per class (at least 2); the last width is {widths[^1]}. Give -Task Regression or a wider output layer.");
        var s = seed ?? Random.Shared.Next();
        var layers = InitialWeights.Tensors(widths, s).Select(p => new LayerState(p.W, p.B)).ToList();
        return new Mlp(name ?? "mlp-" + string.Join("-", widths), activation ?? Activation.ReLU, t, s, layers);
    }

    /// <summary>The widths the model was created with (before any neuron was removed).</summary>
    internal int[] OriginalWidths => Baseline?.Widths ?? Widths;

    /// <summary>Where each neuron now was in the model as created (what a lottery ticket rewinds to).</summary>
    internal NeuronOrigins Origins { get; set; } = NeuronOrigins.None;

    /// <summary>The original index of each output neuron of <paramref name="layer"/> now.</summary>
    internal int[] OriginOf(int layer) => Origins.OriginOf(layer, _layers[layer].OutFeatures);

    private ImmutableDictionary<Type, object> _attachments = ImmutableDictionary<Type, object>.Empty;

    /// <summary>
    /// State a higher floor keeps on the model (the first training run, which Training writes
    /// and the lottery ticket schedule replays): one immutable value per type, shared by copies
    /// and put back by a transaction's undo, so the model needs to know nothing of its type.
    /// </summary>
    internal T? Attached<T>() where T : class => _attachments.TryGetValue(typeof(T), out var v) ? (T)v : null;

    /// <summary>Keeps <paramref name="value"/> (immutable) on the model, replacing any of its type.</summary>
    internal void Attach<T>(T value) where T : class => _attachments = _attachments.SetItem(typeof(T), value);

    internal static void ValidateWidths(int[]? widths)
    {
        if (widths is null || widths.Length < 2)
            throw SparsePruneException.Argument("TooFewLayers",
                $"-Layers needs at least two widths, input first (e.g. 64,128,10); got {(widths is null ? "none" : widths.Length.ToString())}.");
        for (int i = 0; i < widths.Length; i++)
        {
            if (widths[i] <= 0)
                throw SparsePruneException.Argument("InvalidLayerWidth",
                    $"Every width in -Layers must be a positive integer; width {i} is {widths[i]}.");
            if (widths[i] > MaxWidth)
                throw SparsePruneException.Argument("InvalidLayerWidth",
                    $"Width {i} is {widths[i]}; the largest width SparsePrune accepts is {MaxWidth}.");
        }
        long total = 0;
        for (int i = 0; i + 1 < widths.Length; i++) total += (long)widths[i] * widths[i + 1];
        if (total > MaxWeights)
            throw SparsePruneException.Argument("ModelTooLarge", $"These widths give {total} weights; the limit is {MaxWeights}.");
    }

    /// <summary>A copy of layer <paramref name="layer"/>'s weights (out × in); masked and deleted weights read 0.</summary>
    public float[,] GetWeight(int layer)
    {
        var l = LayerAt(layer);
        var flat = l.Weight.data<float>().ToArray();
        var result = new float[l.OutFeatures, l.InFeatures];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>A copy of layer <paramref name="layer"/>'s bias.</summary>
    public float[] GetBias(int layer) => LayerAt(layer).Bias.data<float>().ToArray();

    private LayerState LayerAt(int layer)
    {
        if (layer < 0 || layer >= _layers.Count)
            throw SparsePruneException.Argument("LayerOutOfRange", $"Layer {layer} does not exist; this model has layers 0..{_layers.Count - 1}.");
        return _layers[layer];
    }

    /// <summary>
    /// Runs normalized inputs through the layers with the given weights (training passes its
    /// parameters). Where <paramref name="products"/> gives layer i a product (input, bias → output),
    /// it replaces the dense linear of that layer (training through the sparse kernels).
    /// </summary>
    /// <param name="kernelThreads">Threads for the module's own kernels in training (0: LibTorch's count on this thread).</param>
    internal Tensor Forward(Tensor x, IReadOnlyList<(Tensor W, Tensor B)>? parameters = null, int kernelThreads = 0, IReadOnlyList<Func<Tensor, Tensor, Tensor>?>? products = null)
    {
        var h = x;
        // Inference (no parameters given, no gradient wanted) may run sparse layers through the CSR kernel.
        bool inference = parameters is null && !torch.is_grad_enabled() && x.dim() == 2 && x.dtype == ScalarType.Float32;
        int batch = inference ? (int)x.shape[0] : 0;
        int threads = inference ? torch.get_num_threads() : 1;
        if (inference && batch > 0 && KernelForward.TryRun(_layers, Activation, x, threads) is { } y) return y;
        // Training: the whole pass as one autograd node through the module's own kernels, where it
        // applies and no layer trains through a product of its own (the sparse kernels).
        if (parameters is not null && torch.is_grad_enabled() && (products is null || products.All(p => p is null))
            && MlpTrainingFunction.Applies(x, parameters, Activation))
            return MlpTrainingFunction.Apply(x, parameters, Activation, kernelThreads > 0 ? kernelThreads : torch.get_num_threads());
        for (int i = 0; i < _layers.Count; i++)
        {
            var (w, b) = parameters is null ? (_layers[i].Weight, _layers[i].Bias) : parameters[i];
            h = products?[i] is { } product ? product(h, b)
                : inference && batch > 0 && _layers[i].UsesSparseKernel(batch) ? _layers[i].Csr.Forward(h, threads) : nn.functional.linear(h, w, b);
            if (i + 1 < _layers.Count) h = Activation.Forward(h);
        }
        return h;
    }

    /// <summary>Maps raw feature rows to the normalized inputs the first layer expects.</summary>
    internal Tensor NormalizeInputs(Tensor raw)
    {
        return Scaling is null ? raw : Scaling.Apply(raw);
    }

    /// <summary>Makes <paramref name="data"/> the default data set of later operations (it must fit the model).</summary>
    public void AttachDataset(Dataset data)
    {
        ModelInputs.CheckCompatible(this, data);
        Dataset = data;
    }

    /// <summary>
    /// A seed for the next operation that was given none: derived from the model's seed and
    /// its step count, so that New-Mlp -Seed alone makes a whole pipeline repeatable.
    /// (Not HashCode.Combine: that is randomized per process.)
    /// </summary>
    internal int NextSeed() => (int)(((uint)Seed * 1000003u + (uint)(_history.Count + 1) * 7919u) & int.MaxValue);

    /// <summary>Appends a history record of an operation whose counts before it were <paramref name="before"/>.</summary>
    internal void Record(string operation, HistorySettings settings, (long Weights, long NonZero) before, MetricResult? metric, string? note = null) =>
        AddHistory(new HistoryRecord
        {
            Operation = operation, Settings = settings,
            WeightsBefore = before.Weights, NonZeroBefore = before.NonZero,
            WeightsAfter = Weights, NonZeroAfter = NonZeroWeights,
            MetricName = metric?.Name, Metric = metric?.Value, Note = note,
        });

    internal (long Weights, long NonZero) Counts => (Weights, NonZeroWeights);

    /// <summary>Adds <paramref name="note"/> to the last history record's note.</summary>
    internal void AmendLastNote(string note)
    {
        _history.AmendLastNote(note);
    }

    internal void AddHistory(HistoryRecord record)
    {
        // Every operation that changed the layers records itself: cached kernels are rebuilt from the new weights.
        foreach (var l in _layers) l.InvalidateKernel();
        _history.Add(record);
    }

    /// <summary>The model's state apart from its layers (what a transaction puts back).</summary>
    internal ModelSnapshot Snapshot() =>
        new(Baseline, Dataset, _history.Count, FeatureNames, ClassNames, Scaling, Origins, _attachments);

    /// <summary>Puts back the state <paramref name="snapshot"/> took; history after it is dropped.</summary>
    internal void Restore(ModelSnapshot snapshot)
    {
        (Baseline, Dataset, FeatureNames, ClassNames, Scaling, Origins, _attachments) =
            (snapshot.Baseline, snapshot.Dataset, snapshot.FeatureNames, snapshot.ClassNames, snapshot.Scaling, snapshot.Origins, snapshot.Attachments);
        _history.TruncateTo(snapshot.HistoryCount);
    }

    /// <summary>An independent copy: tensors, baseline and history (the data set is shared: it never changes).</summary>
    public Mlp Clone(string? name = null)
    {
        var copy = new Mlp(name ?? Name, Activation, Task, Seed, _layers.Select(l => l.Clone()).ToList())
        {
            Dataset = Dataset,
            Baseline = Baseline,
            FeatureNames = FeatureNames?.ToArray(),
            ClassNames = ClassNames?.ToArray(),
            Scaling = Scaling?.Copy(),
            Origins = Origins.Copy(),
            DatasetNameFromFile = DatasetNameFromFile,
        };
        copy._history = _history.Clone();
        copy._attachments = _attachments;
        return copy;
    }

    /// <summary>
    /// Becomes a copy of <paramref name="source"/>, a copy of this model that an operation worked
    /// on (Compress-Mlp's chosen candidate): its layers (copied), history, baseline, input names
    /// and scaling, neuron origins and attachments. Run it inside a transaction.
    /// </summary>
    internal void TakeStateOf(Mlp source)
    {
        ReplaceLayers(source._layers.Select(l => l.Clone()).ToList());
        (Baseline, Dataset, FeatureNames, ClassNames, Scaling, Origins, _attachments) =
            (source.Baseline, source.Dataset, source.FeatureNames?.ToArray(), source.ClassNames?.ToArray(), source.Scaling?.Copy(), source.Origins.Copy(), source._attachments);
        // Replaced in place: a transaction's undo cuts this same history back to its old length.
        _history.Replace(source._history.Records.Select(r => r with { }));
    }

    internal void ReplaceLayers(IEnumerable<LayerState> layers)
    {
        foreach (var l in _layers) l.Dispose();
        _layers.Clear();
        _layers.AddRange(layers);
    }

    internal void RestoreHistory(IEnumerable<HistoryRecord> records)
    {
        _history.Replace(records);
    }

    public override string ToString() => $"{Name} [{string.Join(",", Widths)}] {Task}, sparsity {Sparsity:P1}";
}
