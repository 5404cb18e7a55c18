using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The product each layer trains through in one training call (<see cref="TrainingProduct"/>),
/// and the sparse layers' state. A layer whose connections are fixed for the run's steps (a
/// keep mask: fine-tuning after pruning, deleted connections, RigL and gradual pruning between
/// updates) is timed once, at the run's batch size and thread count, through LibTorch's dense
/// product and through the sparse kernels (forward and backward, alternating, medians), and
/// trains through the faster: the same structure at another density or batch size can choose
/// otherwise, so no density threshold is built in. A decision is remembered for the process
/// (by shape, present count, batch size and threads), so that repeated runs of one
/// configuration take the same path and the same seeds keep giving the same bits.
/// Layers too small for the choice to matter (fewer than <see cref="MinimumWork"/>
/// multiply-adds per step) are not timed and stay dense: timing them is mostly noise, and their
/// product is cheap either way.
/// </summary>
internal sealed class LayerProducts
{
    /// <summary>Dense multiply-adds of one step's forward product below which a layer stays dense untimed.</summary>
    public const long MinimumWork = 1L << 24;
    private const int TimedRounds = 3;

    private static readonly ConcurrentDictionary<(int Rows, int Cols, int Present, int Batch, int Threads, bool InputGradient), TrainingProduct> Decisions = new();

    private readonly SparseTrainedLayer?[] _sparse;
    private long _t;

    private LayerProducts(SparseTrainedLayer?[] sparse, string note)
    {
        _sparse = sparse;
        Note = note;
        Products = sparse.Select(s => s is null ? null : (Func<Tensor, Tensor, Tensor>)s.Forward).ToArray();
    }

    /// <summary>Per layer: the product that replaces LibTorch's linear (input, bias → output), or null for the dense one.</summary>
    public IReadOnlyList<Func<Tensor, Tensor, Tensor>?> Products { get; }
    public TrainingProduct Kind(int layer) => _sparse[layer] is null ? TrainingProduct.Dense : TrainingProduct.Sparse;
    public SparseTrainedLayer? Sparse(int layer) => _sparse[layer];
    /// <summary>What the history records of the choice (the layers trained sparse, with the times that chose them).</summary>
    public string Note { get; }

    /// <summary>
    /// The products of a run's layers: null when every layer trains dense. <paramref name="forced"/>
    /// (tests, replays) fixes the kind of every layer with a mask instead of timing it.
    /// </summary>
    public static LayerProducts? Choose(IReadOnlyList<(Parameter W, Parameter B)> parameters, IReadOnlyList<Tensor?> keepMasks,
        int batch, int threads, TrainingProduct? forced)
    {
        var sparse = new SparseTrainedLayer?[parameters.Count];
        var notes = new List<string>();
        for (int l = 0; l < parameters.Count; l++)
        {
            var (w, b) = parameters[l];
            if (keepMasks[l] is not { } keep || forced == TrainingProduct.Dense) continue;
            int rows = (int)w.shape[0], cols = (int)w.shape[1];
            if (forced is null && (long)rows * cols * batch < MinimumWork) continue;
            var layer = new SparseTrainedLayer(keep, w, threads);
            if (!layer.Kernel.Fits(batch)) continue;
            if (forced == TrainingProduct.Sparse) { sparse[l] = layer; notes.Add(l.ToString(CultureInfo.InvariantCulture)); continue; }
            var key = (rows, cols, layer.Kernel.NonZeros, batch, threads, l > 0);
            string timing = "";
            if (!Decisions.TryGetValue(key, out var kind))
            {
                var (dense, sparseMs) = Time(layer, w, b, batch, l > 0);
                kind = sparseMs < dense ? TrainingProduct.Sparse : TrainingProduct.Dense;
                Decisions.TryAdd(key, kind);
                timing = string.Create(CultureInfo.InvariantCulture, $" ({sparseMs:0.###} against {dense:0.###} ms)");
            }
            if (kind != TrainingProduct.Sparse) continue;
            sparse[l] = layer;
            notes.Add(l.ToString(CultureInfo.InvariantCulture) + timing);
        }
        if (notes.Count == 0) return null;
        return new LayerProducts(sparse, $"trained through the sparse kernels: layer {string.Join(", ", notes)}");
    }

    /// <summary>
    /// Median milliseconds of one forward and backward product of the layer at <paramref name="batch"/>
    /// rows, dense (LibTorch's products of the masked weights) and sparse, timed alternately.
    /// </summary>
    private static (double Dense, double Sparse) Time(SparseTrainedLayer layer, Parameter w, Parameter b, int batch, bool inputGradient)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(batch);
        Tensor Values(int rows, int cols)
        {
            var v = new float[(long)rows * cols];
            for (long i = 0; i < v.LongLength; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
            return NativeCopy.Floats(v, new long[] { rows, cols });
        }
        var x = Values(batch, (int)w.shape[1]);
        var dy = Values(batch, (int)w.shape[0]);
        var wd = w.detach();
        var bt = b.detach().requires_grad_(true);
        double Once(bool sparse)
        {
            using var s = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            if (sparse)
            {
                var xi = inputGradient ? x.detach().requires_grad_(true) : x;
                layer.Forward(xi, bt).backward(new[] { dy });
            }
            else
                using (no_grad())
                {
                    // The dense path's products as autograd runs them (forward, input gradient,
                    // weight gradient), without autograd keeping a second dense gradient alive.
                    nn.functional.linear(x, wd, b);
                    if (inputGradient) dy.mm(wd);
                    dy.t().mm(x);
                }
            return clock.Elapsed.TotalMilliseconds;
        }
        // A cold round first (allocation, first calls), then timed rounds, alternating, until two
        // rounds agree (every sparse time beats every dense one, or the reverse) or three are in:
        // a clear case costs two timed rounds, which for a large dense layer are most of the cost.
        Once(false); Once(true);
        var dense = new List<double>();
        var sparseTimes = new List<double>();
        for (int r = 0; r < TimedRounds; r++)
        {
            dense.Add(Once(false));
            sparseTimes.Add(Once(true));
            if (r >= 1 && (sparseTimes.Max() < dense.Min() || dense.Max() < sparseTimes.Min())) break;
        }
        dense.Sort(); sparseTimes.Sort();
        layer.ZeroGrad();
        return (dense[(dense.Count - 1) / 2], sparseTimes[(sparseTimes.Count - 1) / 2]);
    }

    /// <summary>
    /// Gives each sparse layer, as its dense weights, a view of the model layer's own weight
    /// tensor instead of a trained copy (the copy is disposed): the values train in the
    /// kernel, and the dense form is only written on the steps a hook reads it and at the
    /// write-back, so a copy of the layer's dense size would be memory for nothing. Writing into
    /// the layer's tensor during the run is undone with everything else when the run fails (the
    /// transaction keeps its own copy of the layers).
    /// </summary>
    public void ShareLayerWeights(List<(Parameter W, Parameter B)> parameters, IReadOnlyList<LayerState> layers)
    {
        for (int l = 0; l < _sparse.Length; l++)
        {
            if (_sparse[l] is not { } s) continue;
            var old = parameters[l].W;
            Parameter view;
            using (NewDisposeScope()) view = new Parameter(layers[l].Weight.detach().DetachFromDisposeScope(), requires_grad: true);
            parameters[l] = (view, parameters[l].B);
            s.W = view;
            old.Dispose();
        }
    }

    /// <summary>The write-back of sparse layer <paramref name="layer"/>: its values into the layer's weights, whose caches are dropped.</summary>
    public bool WriteBack(int layer, LayerState state)
    {
        if (_sparse[layer] is not { } s) return false;
        s.ScatterInto(state.Weight);
        state.InvalidateKernel();
        return true;
    }

    /// <summary>
    /// Before a step's forward pass: whether a hook reads this step's dense weights and
    /// gradients. Then the dense copies are written and the backward pass fills W.grad too.
    /// </summary>
    public void BeginStep(bool denseGradients)
    {
        foreach (var s in _sparse)
        {
            if (s is null) continue;
            s.DenseGradient = denseGradients;
            if (denseGradients) s.SyncWeights();
        }
    }

    /// <summary>After a hook read the dense gradients: they are dropped (they hold the dense size).</summary>
    public void EndStep()
    {
        foreach (var s in _sparse)
            if (s is { DenseGradient: true }) { s.ReleaseDenseGradient(); s.DenseGradient = false; }
    }

    /// <summary>Writes every sparse layer's values into its dense copy (before the layers are written back).</summary>
    public void SyncWeights()
    {
        foreach (var s in _sparse) s?.SyncWeights();
    }

    /// <summary>After a hook changed layer <paramref name="layer"/>'s mask and the dense copy was reloaded.</summary>
    public void Rebuild(int layer, Tensor? keep) => _sparse[layer]?.Rebuild(keep);

    public void ZeroGrad()
    {
        foreach (var s in _sparse) s?.ZeroGrad();
    }

    /// <summary>One Adam step of every sparse layer (the dense parameters take theirs from the fused Adam, at the same step count).</summary>
    public void Step(double learningRate, double weightDecay)
    {
        _t++;
        foreach (var s in _sparse) s?.Step(_t, learningRate, weightDecay);
    }
}
