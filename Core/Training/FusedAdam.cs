using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Adam (Kingma and Ba; L2 weight decay added to the gradient, as torch.optim.Adam does) in
/// one pass over each parameter's memory: per element, the decayed gradient, both moment
/// updates and the parameter update, where TorchSharp's Adam runs about eight whole-tensor
/// operations, each a pass over memory. For LeNet-300-100 that was over a third of a training
/// epoch. Elementwise, so the result does not depend on the thread count. Used when every
/// parameter and gradient is a contiguous float32 CPU tensor; otherwise the trainer takes
/// TorchSharp's Adam. A parameter with a keep mask (1 keep, 0 masked) has it applied in the
/// same pass: a masked weight and both its moments are set to 0, as if its gradient had been
/// masked before the step and the weight after it.
/// </summary>
internal sealed unsafe class FusedAdam : IStepper
{
    internal const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly List<Tensor> _m = new(), _v = new();
    private readonly double _weightDecay;
    private readonly Func<int, Tensor?> _keepMask;
    private readonly int _threads;
    private long _t;

    /// <param name="keepMask">The float 1/0 keep mask of parameter k now (null: none); read at every step.</param>
    public FusedAdam(IReadOnlyList<Tensor> parameters, double weightDecay, int threads, Func<int, Tensor?> keepMask)
    {
        _parameters = parameters;
        _keepMask = keepMask;
        _weightDecay = weightDecay;
        _threads = Math.Max(1, threads);
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            _m.Add(zeros_like(p).DetachFromDisposeScope());
            _v.Add(zeros_like(p).DetachFromDisposeScope());
        }
    }

    /// <summary>Parameter <paramref name="k"/>'s first and second moment estimates (for tests).</summary>
    internal (Tensor M, Tensor V) Moments(int k) => (_m[k], _v[k]);

    /// <summary>Whether the fused path can run on <paramref name="parameters"/> (their gradients are checked at each step).</summary>
    public static bool Supports(IEnumerable<Tensor> parameters) =>
        RawTensor.Available && parameters.All(p => RawTensor.Address(p, ScalarType.Float32, p.numel()) != 0);

    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            // The gradient's handle is taken inside the scope, which releases it: taken outside,
            // it outlived the run (one per parameter and training call, never freed).
            using var s = NewDisposeScope();
            if (p.grad is { } g) g.zero_();
        }
    }

    public void Step(double learningRate)
    {
        _t++;
        double bc1 = 1 - Math.Pow(Beta1, _t), bc2 = 1 - Math.Pow(Beta2, _t);
        float stepSize = (float)(learningRate / bc1), bc2Root = (float)Math.Sqrt(bc2);
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon, wd = (float)_weightDecay;
        using var noGrad = no_grad();
        for (int k = 0; k < _parameters.Count; k++)
        {
            var p = _parameters[k];
            using var scope = NewDisposeScope();
            var g = p.grad;
            if (g is null) continue;
            long n = p.numel();
            nint pa = RawTensor.Address(p, ScalarType.Float32, n), ga = RawTensor.Address(g, ScalarType.Float32, n);
            nint ma = RawTensor.Address(_m[k], ScalarType.Float32, n), va = RawTensor.Address(_v[k], ScalarType.Float32, n);
            var keep = _keepMask(k);
            nint ka = RawTensor.Address(keep, ScalarType.Float32, n);
            if (pa == 0 || ga == 0 || ma == 0 || va == 0 || (keep is not null && ka == 0))
            {
                // The same update with tensor operations (a gradient that is not contiguous, say).
                var grad = wd != 0 ? g + p * wd : g;
                _m[k].mul_(b1).add_(grad, alpha: 1 - b1);
                _v[k].mul_(b2).addcmul_(grad, grad, value: 1 - b2);
                var denom = _v[k].sqrt().div_(bc2Root).add_(eps);
                p.addcdiv_(_m[k], denom, value: -stepSize);
                if (keep is not null) { _m[k].mul_(keep); _v[k].mul_(keep); p.mul_(keep); }
                continue;
            }
            float* pp = (float*)pa, gp = (float*)ga, mp = (float*)ma, vp = (float*)va, kp = (float*)ka;
            bool masked = keep is not null;
            void Range(long start, long end)
            {
                long i = start;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vb1 = Vector256.Create(b1); var vb2 = Vector256.Create(b2);
                    var vc1 = Vector256.Create(1 - b1); var vc2 = Vector256.Create(1 - b2);
                    var vwd = Vector256.Create(wd); var veps = Vector256.Create(eps);
                    var vroot = Vector256.Create(bc2Root); var vstep = Vector256.Create(stepSize);
                    for (; i + 8 <= end; i += 8)
                    {
                        var param = Vector256.Load(pp + i);
                        var grad = Vector256.Load(gp + i);
                        if (wd != 0) grad += vwd * param;
                        var m = vb1 * Vector256.Load(mp + i) + vc1 * grad;
                        var v = vb2 * Vector256.Load(vp + i) + vc2 * grad * grad;
                        var updated = param - vstep * (m / (Vector256.Sqrt(v) / vroot + veps));
                        if (masked)
                        {
                            var k = Vector256.Load(kp + i);
                            m *= k; v *= k; updated *= k;
                        }
                        m.Store(mp + i);
                        v.Store(vp + i);
                        updated.Store(pp + i);
                    }
                }
                for (; i < end; i++)
                {
                    float grad = wd != 0 ? gp[i] + wd * pp[i] : gp[i];
                    float m = b1 * mp[i] + (1 - b1) * grad;
                    float v = b2 * vp[i] + (1 - b2) * grad * grad;
                    float updated = pp[i] - stepSize * (m / (MathF.Sqrt(v) / bc2Root + eps));
                    if (masked) { m *= kp[i]; v *= kp[i]; updated *= kp[i]; }
                    mp[i] = m; vp[i] = v; pp[i] = updated;
                }
            }
            int parts = (int)Math.Clamp(n / 65536, 1, _threads);
            if (parts == 1) Range(0, n);
            else KernelThreads.For(parts, part => Range(n * part / parts, n * (part + 1) / parts));
            GC.KeepAlive(g);
            GC.KeepAlive(keep);
        }
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
