using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// Training through the module's own kernels (<see cref="MlpTrainingFunction"/>) against
/// LibTorch's autograd of the same layers: the outputs and every weight's and bias's gradient,
/// for each activation with a managed form, on odd shapes, accumulated over steps as training
/// does; two passes waiting for their backward passes at once; and a whole training run.
/// </summary>
public class MlpTrainingFunctionTests
{
    private static List<(Tensor W, Tensor B)> Parameters(int[] widths, int seed)
    {
        var g = new TorchSharp.torch.Generator((ulong)seed);
        var ps = new List<(Tensor W, Tensor B)>();
        for (int i = 0; i + 1 < widths.Length; i++)
            ps.Add((new Parameter(randn(new long[] { widths[i + 1], widths[i] }, generator: g) * 0.3f), new Parameter(randn(new long[] { widths[i + 1] }, generator: g))));
        return ps;
    }

    private static Tensor LibTorch(Tensor x, List<(Tensor W, Tensor B)> ps, Activation activation)
    {
        var h = x;
        for (int i = 0; i < ps.Count; i++)
        {
            h = nn.functional.linear(h, ps[i].W, ps[i].B);
            if (i + 1 < ps.Count) h = activation.Forward(h);
        }
        return h;
    }

    /// <summary>Gradients after <paramref name="steps"/> backward passes without zeroing (as gradients accumulate).</summary>
    private static List<(Tensor W, Tensor B)> Gradients(Tensor x, Tensor y, List<(Tensor W, Tensor B)> ps, Activation activation, bool ours, int steps)
    {
        foreach (var (w, b) in ps) { w.grad?.zero_(); b.grad?.zero_(); }
        for (int s = 0; s < steps; s++)
        {
            var output = ours ? MlpTrainingFunction.Apply(x, ps, activation, 2) : LibTorch(x, ps, activation);
            nn.functional.cross_entropy(output, y).backward();
        }
        return ps.Select(p => (p.W.grad!.clone(), p.B.grad!.clone())).ToList();
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double scale = Math.Max(1.0, expected.abs().max().item<float>());
        double worst = (expected - actual).abs().max().item<float>();
        Assert.True(worst <= 1e-5 * scale, $"{what}: differs from LibTorch by {worst}");
    }

    [Theory]
    [InlineData("ReLU")]
    [InlineData("LeakyReLU(0.2)")]
    [InlineData("Identity")]
    public void OutputsAndGradientsMatchLibTorch(string activationName)
    {
        var activation = Activation.Parse(activationName);
        foreach (var (widths, batch) in new[] { (new[] { 37, 50, 23, 7 }, 13), (new[] { 5, 3 }, 1), (new[] { 300, 129, 11 }, 129) })
        {
            using var scope = NewDisposeScope();
            var ps = Parameters(widths, batch);
            var g = new TorchSharp.torch.Generator(7);
            var x = randn(new long[] { batch, widths[0] }, generator: g);
            var y = randint(0, widths[^1], new long[] { batch }, generator: g);
            AssertClose(LibTorch(x, ps, activation).detach(), MlpTrainingFunction.Apply(x, ps, activation, 2).detach(), $"{activationName} output");
            var expected = Gradients(x, y, ps, activation, ours: false, steps: 2);
            var actual = Gradients(x, y, ps, activation, ours: true, steps: 2);
            for (int l = 0; l < ps.Count; l++)
            {
                AssertClose(expected[l].W, actual[l].W, $"{activationName} {string.Join('-', widths)} dW{l}");
                AssertClose(expected[l].B, actual[l].B, $"{activationName} {string.Join('-', widths)} db{l}");
            }
        }
    }

    [Fact]
    public void TwoPassesWaitingAtOnceKeepTheirOwnValues()
    {
        using var scope = NewDisposeScope();
        var ps = Parameters(new[] { 20, 30, 5 }, 3);
        var g = new TorchSharp.torch.Generator(11);
        var x1 = randn(new long[] { 9, 20 }, generator: g);
        var x2 = randn(new long[] { 9, 20 }, generator: g) * 3;
        var y = randint(0, 5, new long[] { 9 }, generator: g);
        var expected = Gradients(x1, y, ps, Activation.ReLU, ours: false, steps: 1).Zip(Gradients(x2, y, ps, Activation.ReLU, ours: false, steps: 1), (a, b) => (a.W + b.W, a.B + b.B)).ToList();
        foreach (var (w, b) in ps) { w.grad!.zero_(); b.grad!.zero_(); }
        // Both forward passes first (the second cannot take the thread's buffers), then both backward passes.
        var first = nn.functional.cross_entropy(MlpTrainingFunction.Apply(x1, ps, Activation.ReLU, 2), y);
        var second = nn.functional.cross_entropy(MlpTrainingFunction.Apply(x2, ps, Activation.ReLU, 2), y);
        second.backward();
        first.backward();
        for (int l = 0; l < ps.Count; l++)
        {
            AssertClose(expected[l].Item1, ps[l].W.grad!, $"dW{l}");
            AssertClose(expected[l].Item2, ps[l].B.grad!, $"db{l}");
        }
    }

    [Fact]
    public void ActivationsWithoutAManagedFormTakeLibTorch()
    {
        using var scope = NewDisposeScope();
        var ps = Parameters(new[] { 4, 3, 2 }, 1);
        Assert.False(MlpTrainingFunction.AppliesTo(ps, Activation.Tanh));
        Assert.True(MlpTrainingFunction.AppliesTo(ps, Activation.ReLU));
        var x = randn(2, 4).requires_grad_(true);
        Assert.False(MlpTrainingFunction.Applies(x, ps, Activation.ReLU)); // an input that wants its gradient
    }
}
