using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// A whole MLP's forward pass in training, and its backward pass, as one node of LibTorch's
/// autograd computed by the module's own kernels: per layer yᵀ = W xᵀ (+ b) through <see cref="Gemm"/>
/// (the weight read in place, the batch packed), the activation and its derivative in managed
/// code, and in backward dW = dZᵀ A, db = Σ dZ, dA = dZ W for every layer but the first. The
/// loss, distillation and penalties stay LibTorch's and reach the weights' gradients as before.
/// One node instead of a linear and an activation per layer: each node costs LibTorch calls and
/// a managed callback, and LibTorch's own threads and the kernels' threads then contend less.
/// Applies when every weight is a contiguous float32 CPU tensor, the inputs need no gradient
/// and the activation has a managed form (<see cref="Activation.HasManagedForm"/>); otherwise
/// the caller takes LibTorch's layers. The sums run in one fixed order whatever the thread count.
/// </summary>
internal sealed unsafe class MlpTrainingFunction : autograd.SingleTensorFunction<MlpTrainingFunction>
{
    public override string Name => "SparsePruneMlp";

    /// <summary>
    /// What a forward pass leaves for its backward pass: per hidden layer its outputs before (Z)
    /// and after (A) the activation, [batch, width], as tensors (their memory does not move, and
    /// they are freed with the training step's dispose scope, or by the GC if no step owns them).
    /// </summary>
    private sealed class Pass
    {
        public required Activation Activation { get; init; }
        public required int Threads { get; init; }
        public required int Batch { get; init; }
        public required int[] Widths { get; init; }
        /// <summary>The weights and biases as given (their gradients are added to in place).</summary>
        public required Tensor[] Weights { get; init; }
        public required Tensor[] Biases { get; init; }
        /// <summary>Per hidden layer, its outputs before (Z) and after (A) the activation, [batch, width].</summary>
        public float*[] Before { get; set; } = new float*[0];
        public float*[] After { get; set; } = new float*[0];
        public Workspace? Space { get; set; }
    }

    /// <summary>
    /// A thread's buffers for the hidden layers' values and the backward pass, kept from step to
    /// step: fresh tensors each step cost their first writes (a page fault per 4 KiB, several
    /// microseconds on a virtual machine), a third of a LeNet step. A forward pass takes them only
    /// while no other pass on the thread waits for its backward pass; otherwise it makes its own.
    /// </summary>
    private sealed class Workspace : IDisposable
    {
        private readonly List<(nint Address, long Floats)> _buffers = new();
        public bool Busy { get; set; }

        public float* Get(int slot, long floats)
        {
            while (_buffers.Count <= slot) _buffers.Add((0, 0));
            if (_buffers[slot].Floats < floats)
            {
                if (_buffers[slot].Address != 0) System.Runtime.InteropServices.NativeMemory.AlignedFree((void*)_buffers[slot].Address);
                _buffers[slot] = ((nint)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64), floats);
            }
            return (float*)_buffers[slot].Address;
        }

        public void Dispose()
        {
            foreach (var (address, _) in _buffers) if (address != 0) System.Runtime.InteropServices.NativeMemory.AlignedFree((void*)address);
            _buffers.Clear();
        }

        ~Workspace() => Dispose();
    }

    [ThreadStatic] private static Workspace? _threadSpace;

    /// <summary>
    /// Frees this thread's workspace for the next pass: called where no pass can be waiting for its
    /// backward pass (the start of a training run), so that one abandoned by an error is not held.
    /// </summary>
    public static void ReleaseThreadWorkspace()
    {
        if (_threadSpace is { } space) space.Busy = false;
    }

    /// <summary>Whether this path can run <paramref name="x"/> through <paramref name="parameters"/>.</summary>
    public static bool Applies(Tensor x, IReadOnlyList<(Tensor W, Tensor B)> parameters, Activation activation) =>
        !x.requires_grad && Fits(x, 2) && x.shape[0] > 0 && x.shape[1] == parameters[0].W.shape[1] && AppliesTo(parameters, activation);

    /// <summary>Whether this path can train <paramref name="parameters"/> (the batch aside).</summary>
    public static bool AppliesTo(IReadOnlyList<(Tensor W, Tensor B)> parameters, Activation activation)
    {
        if (!activation.HasManagedForm || parameters.Count == 0) return false;
        long width = parameters[0].W.dim() == 2 ? parameters[0].W.shape[1] : -1;
        foreach (var (w, b) in parameters)
        {
            if (!Fits(w, 2) || !Fits(b, 1) || w.shape[1] != width || b.shape[0] != w.shape[0]) return false;
            width = w.shape[0];
        }
        return true;
    }

    private static bool Fits(Tensor t, int dims) =>
        t.dim() == dims && t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous();

    /// <summary>The network's outputs for <paramref name="x"/>, differentiable in every weight and bias.</summary>
    public static Tensor Apply(Tensor x, IReadOnlyList<(Tensor W, Tensor B)> parameters, Activation activation, int threads)
    {
        var vars = new object[parameters.Count * 2 + 2];
        vars[0] = x;
        for (int l = 0; l < parameters.Count; l++) { vars[1 + 2 * l] = parameters[l].W; vars[2 + 2 * l] = parameters[l].B; }
        var widths = new int[parameters.Count + 1];
        widths[0] = (int)x.shape[1];
        for (int l = 0; l < parameters.Count; l++) widths[l + 1] = (int)parameters[l].W.shape[0];
        vars[^1] = new Pass
        {
            Activation = activation, Threads = Math.Max(1, threads), Batch = (int)x.shape[0], Widths = widths,
            Weights = parameters.Select(p => p.W).ToArray(), Biases = parameters.Select(p => p.B).ToArray(),
        };
        return apply(vars);
    }

    private static float* Data(Tensor t) => (float*)RawTensor.Address(t, ScalarType.Float32);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var pass = (Pass)vars[^1];
        var x = (Tensor)vars[0];
        int layers = pass.Widths.Length - 1, m = pass.Batch;
        var space = _threadSpace ??= new Workspace();
        if (space.Busy) space = new Workspace(); // another pass on this thread still waits for its backward pass
        space.Busy = true;
        pass.Space = space;
        pass.Before = new float*[layers - 1];
        pass.After = new float*[layers - 1];
        var saved = new List<Tensor> { x };
        float* input = Data(x);
        Tensor? output = null;
        for (int l = 0; l < layers; l++)
        {
            var w = (Tensor)vars[1 + 2 * l];
            var b = (Tensor)vars[2 + 2 * l];
            saved.Add(w);
            int k = pass.Widths[l], n = pass.Widths[l + 1];
            bool last = l == layers - 1;
            if (last) output = empty(new long[] { m, n }, ScalarType.Float32);
            float* y = last ? Data(output!) : space.Get(2 * l, (long)m * n);
            float* bias = Data(b);
            for (int i = 0; i < m; i++) new ReadOnlySpan<float>(bias, n).CopyTo(new Span<float>(y + (long)i * n, n));
            // yᵀ = W xᵀ added onto the bias: the weight read in place, the batch packed.
            if (k > 0)
                Gemm.Multiply(new GemmOperand(Data(w), k), new GemmOperand(input, k, transposed: true), y, n, n, m, k,
                    null, true, pass.Threads, GemmPaths.Best, transposeC: true);
            GC.KeepAlive(w);
            GC.KeepAlive(b);
            if (last) break;
            float* a = space.Get(2 * l + 1, (long)m * n);
            new ReadOnlySpan<float>(y, m * n).CopyTo(new Span<float>(a, m * n));
            pass.Activation.TryForward(new Span<float>(a, m * n));
            pass.Before[l] = y;
            pass.After[l] = a;
            input = a;
        }
        ctx.save_for_backward(saved);
        ctx.save_data("pass", pass);
        GC.KeepAlive(x);
        return output!;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        var pass = (Pass)ctx.get_data("pass");
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        int layers = pass.Widths.Length - 1, m = pass.Batch, threads = pass.Threads;
        var grads = new Tensor?[layers * 2 + 2];
        var dy = grad.is_contiguous() ? grad : grad.contiguous();
        var space = pass.Space!;
        try
        {
            float* dz = Data(dy);
            for (int l = layers - 1; l >= 0; l--)
            {
                var w = saved[1 + l];
                int k = pass.Widths[l], n = pass.Widths[l + 1];
                float* a = l == 0 ? Data(x) : pass.After[l - 1];
                // dW [n x k] = dZᵀ [n x m] · A [m x k], added straight onto the weight's gradient
                // where it has one (no tensor per step; LibTorch would add it there itself).
                var (dw, dwInPlace) = GradientOf(pass.Weights[l], new long[] { n, k });
                Gemm.Multiply(new GemmOperand(dz, n, transposed: true), new GemmOperand(a, k), Data(dw), k, n, k, m, null, dwInPlace, threads, GemmPaths.Best);
                // db += Σ over the batch of dZ, in row order
                var (db, dbInPlace) = GradientOf(pass.Biases[l], new long[] { n });
                var sums = new Span<float>(Data(db), n);
                if (!dbInPlace) sums.Clear();
                for (int i = 0; i < m; i++)
                {
                    var row = new ReadOnlySpan<float>(dz + (long)i * n, n);
                    for (int j = 0; j < n; j++) sums[j] += row[j];
                }
                grads[1 + 2 * l] = dwInPlace ? null : dw;
                grads[2 + 2 * l] = dbInPlace ? null : db;
                GC.KeepAlive(dw);
                GC.KeepAlive(db);
                if (l == 0) break;
                // dA [m x k] = dZ [m x n] · W [n x k], as dAᵀ = Wᵀ dZᵀ (the weight read in place); then
                // the layer below's dZ = dA times the activation's derivative at its Z.
                float* da = space.Get(2 * layers + (l & 1), (long)m * k);
                Gemm.Multiply(new GemmOperand(Data(w), k, transposed: true), new GemmOperand(dz, n, transposed: true), da, k, k, m, n,
                    null, false, threads, GemmPaths.Best, transposeC: true);
                pass.Activation.TryBackward(new ReadOnlySpan<float>(pass.Before[l - 1], m * k), new Span<float>(da, m * k));
                dz = da;
            }
        }
        finally
        {
            space.Busy = false;
            GC.KeepAlive(dy);
            GC.KeepAlive(saved);
        }
        return grads.Select(g => g!).ToList();
    }

    /// <summary>
    /// Where a parameter's gradient goes: its own .grad when that is a contiguous float32 tensor of
    /// its shape (added to in place; nothing is returned to autograd for it), else a new tensor
    /// autograd adds there.
    /// </summary>
    private static (Tensor Gradient, bool InPlace) GradientOf(Tensor parameter, long[] shape)
    {
        if (parameter.grad is { } g && g.dtype == ScalarType.Float32 && g.device_type == DeviceType.CPU && g.is_contiguous() && g.shape.SequenceEqual(shape))
            return (g, true);
        return (empty(shape, ScalarType.Float32), false);
    }
}
