using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The native radix select against the torch reference path (cat + kthvalue): the same masks
/// bit for bit and the same counts, on layers full of ties, zeros, masked and deleted weights,
/// and layers larger than one work chunk (so ties split across chunks); and a sparsity step
/// that fails half-way leaves the model as it was, without the full copy ModelTransaction.Run makes.
/// </summary>
public class NativeSelectTests
{
    /// <summary>
    /// Weights drawn from a few magnitudes (0, -0, a subnormal, repeated levels) mixed with
    /// continuous values, random signs: most ranks fall inside runs of ties.
    /// </summary>
    private static float[] TiedValues(int n, int seed)
    {
        var rng = new Random(seed);
        float[] levels = { 0f, -0f, float.Epsilon, 1e-3f, 0.015625f, 0.25f, 0.5f };
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v = rng.Next(3) == 0 ? (float)rng.NextDouble() * 0.6f : levels[rng.Next(levels.Length)];
            values[i] = rng.Next(2) == 0 ? -v : v;
        }
        return values;
    }

    /// <summary>A model with ties everywhere, some connections deleted and some weights masked.</summary>
    private static Mlp Used(int[] widths, int seed, bool deleted = true, bool masked = true)
    {
        var model = Mlp.Create(widths, seed: seed);
        for (int l = 0; l < model.LayerCount; l++) TestKit.SetWeight(model, l, TiedValues((int)model.State[l].DenseWeights, seed * 10 + l));
        if (deleted) TestKit.Prune(model, 0.2, scope: PruneScope.Global);
        if (masked) TestKit.Sparsify(model, 0.45, PruneScope.Layer);
        return model;
    }

    private static void SamePlans(Mlp model, SparsityRequest request)
    {
        using var native = Sparsifier.Plan(model, request, preferNative: true);
        using var reference = Sparsifier.Plan(model, request, preferNative: false);
        Assert.True(native.Native, "the native select was not used");
        Assert.False(reference.Native);
        Assert.Equal(reference.Masks.Count, native.Masks.Count);
        for (int i = 0; i < native.Masks.Count; i++)
        {
            var (n, r) = (native.Masks[i], reference.Masks[i]);
            Assert.Equal(r.Layer, n.Layer);
            Assert.Equal(ScalarType.Bool, n.Keep!.dtype);
            var nb = TestKit.Bools(n.Keep);
            var rb = TestKit.Bools(r.Keep);
            int first = Enumerable.Range(0, nb.Length).FirstOrDefault(k => nb[k] != rb[k], -1);
            Assert.True(first < 0, $"{request.Describe()}: layer {n.Layer} differs first at {first} (native keeps {(first < 0 ? "" : nb[first])})");
            Assert.Equal(r.KeepsAll, n.KeepsAll);
            Assert.Equal(r.Changes, n.Changes);
        }
        Assert.Equal(reference.MasksDiffer, native.MasksDiffer);
        Assert.Equal(reference.Changes.Select(c => (c.Layer, c.Weights, c.ZeroBefore, c.ZeroAfter)), native.Changes.Select(c => (c.Layer, c.Weights, c.ZeroBefore, c.ZeroAfter)));
    }

    public static IEnumerable<object[]> Targets()
    {
        foreach (var scope in new[] { PruneScope.Global, PruneScope.Layer, PruneScope.ERK })
            foreach (var s in new[] { 0.0, 0.1, 0.37, 0.45, 0.9, 0.999999999 }) // 0: k = 0; 0.999999999: k = N - 1
                yield return new object[] { scope, s };
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void NativeSelectMatchesTheReferenceOnTiesZerosMaskedAndDeletedWeights(PruneScope scope, double s)
    {
        var model = Used(new[] { 40, 30, 20, 10 }, seed: 5);
        Assert.All(model.State, l => Assert.NotNull(l.Deleted));
        Assert.Contains(model.State, l => l.Keep is not null);
        SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope });
        SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope, Layers = new[] { 2, 0 } });
        SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope, Method = PruneCriterion.Random, Seed = 3 });
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void NativeSelectMatchesTheReferenceWithAndWithoutMasksAndDeletions(bool deleted, bool masked)
    {
        var model = Used(new[] { 12, 9, 7 }, seed: 6, deleted, masked);
        foreach (var scope in new[] { PruneScope.Global, PruneScope.Layer })
            foreach (var s in new[] { 0.0, 0.2, 0.5, 0.8, 0.999999999 })
                SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope });
        foreach (var t in new[] { 0.0, 1e-3, 0.015625, 0.3, 0.5, 2.0 })
            SamePlans(model, new SparsityRequest { Threshold = t });
    }

    [Fact]
    public void EveryWeightTiedStillBreaksByLayerThenIndex()
    {
        var model = Mlp.Create(new[] { 9, 8, 7, 6 }, seed: 7);
        for (int l = 0; l < 3; l++) TestKit.SetWeight(model, l, Enumerable.Repeat(0.5f, (int)model.State[l].DenseWeights).Select((v, i) => i % 2 == 0 ? v : -v).ToArray());
        foreach (var s in new[] { 0.0, 0.3, 0.6, 0.999999999 })
        {
            SamePlans(model, new SparsityRequest { Sparsity = s, Scope = PruneScope.Global });
            SamePlans(model, new SparsityRequest { Sparsity = s, Scope = PruneScope.Layer });
        }
    }

    /// <summary>Layers of more than one chunk (2^20 weights): the ties at the cut are shared out chunk by chunk.</summary>
    [Theory]
    [InlineData(PruneScope.Global, 0.5)]
    [InlineData(PruneScope.Global, 0.9)]
    [InlineData(PruneScope.Layer, 0.6)]
    public void TiesAcrossChunksOfLargeLayersMatchTheReference(PruneScope scope, double s)
    {
        var model = Mlp.Create(new[] { 1100, 1000, 700 }, seed: 8);
        var rng = new Random(9);
        float[] levels = { 0f, 0.125f, 0.25f, 0.5f };
        for (int l = 0; l < 2; l++)
        {
            int n = (int)model.State[l].DenseWeights;
            TestKit.SetWeight(model, l, Enumerable.Range(0, n).Select(_ => levels[rng.Next(levels.Length)] * (rng.Next(2) == 0 ? 1 : -1)).ToArray());
        }
        SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope });
        TestKit.Sparsify(model, 0.3, scope);
        SamePlans(model, new SparsityRequest { Sparsity = s, Scope = scope });
    }

    [Theory]
    [InlineData(PruneScope.Global)]
    [InlineData(PruneScope.Layer)]
    public void AppliedNativePlanEqualsAppliedReferencePlan(PruneScope scope)
    {
        var model = Used(new[] { 20, 15, 10 }, seed: 10);
        var twin = model.Clone();
        foreach (var s in new[] { 0.7, 0.3, 0.0, 0.5 })
        {
            using (var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = s, Scope = scope }, preferNative: true))
                Sparsifier.Apply(model, plan, null);
            using (var plan = Sparsifier.Plan(twin, new SparsityRequest { Sparsity = s, Scope = scope }, preferNative: false))
                Sparsifier.Apply(twin, plan, null);
            TestKit.SameStateIgnoringReferences(TestKit.Snap(twin), model);
            Assert.All(model.State, l => Assert.True(l.Keep is null || l.Keep.dtype == ScalarType.Bool));
        }
    }

    private static Mlp DigitsModel(int seed)
    {
        var model = Mlp.Create(new[] { 64, 16, 12, 10 }, seed: seed);
        TestKit.Sparsify(model, 0.4, PruneScope.Layer, layers: new[] { 1 }, data: TestKit.Digits); // baseline set, layer 1 masked, layers 0 and 2 not
        return model;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void StepFailingAfterSomeLayersAreInstalledLeavesTheModelAsItWas(int failAfter)
    {
        var model = DigitsModel(11);
        var before = TestKit.Snap(model);
        var history = model.History.ToList();
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.8, Scope = PruneScope.Global });
        plan.AfterInstall = layer => { if (layer == failAfter) throw new InvalidOperationException("injected"); };
        Assert.Throws<InvalidOperationException>(() => Sparsifier.Apply(model, plan, null));
        TestKit.SameState(before, model);
        Assert.Equal(history, model.History);
        // The step can be planned and applied again afterwards, and gives what it gives on an untouched twin.
        var twin = DigitsModel(11);
        TestKit.Sparsify(model, 0.8, PruneScope.Global);
        TestKit.Sparsify(twin, 0.8, PruneScope.Global);
        TestKit.SameStateIgnoringReferences(TestKit.Snap(twin), model);
    }

    [Theory]
    [InlineData(0.8)]
    [InlineData(0.0)]
    public void StepFailingInEvaluationLeavesTheModelAsItWas(double s)
    {
        var model = DigitsModel(12);
        var before = TestKit.Snap(model);
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = s, Scope = PruneScope.Global });
        Assert.True(plan.MasksDiffer);
        // The baseline exists, so the wrong data set is noticed only when the new masks are evaluated.
        TestKit.Throws("FeatureCountMismatch", () => Sparsifier.Apply(model, plan, TestKit.Iris));
        TestKit.SameState(before, model);
    }

    [Fact]
    public void StepOnTensorsTheNativePathCannotReadFallsBackAndStillUndoes()
    {
        var model = DigitsModel(13);
        // A transposed (non-contiguous) view holds the same values: both the select and the swap take tensor ops.
        var layer = model.State[2];
        var values = TestKit.W(model, 2);
        var transposed = torch.tensor(values, new long[] { layer.OutFeatures, layer.InFeatures }).t().contiguous().t();
        Assert.False(transposed.is_contiguous());
        layer.SetWeight(transposed);
        var before = TestKit.Snap(model);
        using (var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.8, Scope = PruneScope.Global }))
        {
            Assert.False(plan.Native);
            plan.AfterInstall = l => { if (l == 2) throw new InvalidOperationException("injected"); };
            Assert.Throws<InvalidOperationException>(() => Sparsifier.Apply(model, plan, null));
        }
        TestKit.SameState(before, model);
        var twin = DigitsModel(13);
        TestKit.Sparsify(model, 0.8, PruneScope.Global);
        TestKit.Sparsify(twin, 0.8, PruneScope.Global);
        for (int l = 0; l < 3; l++) TestKit.BitEqual(TestKit.W(twin, l), TestKit.W(model, l), $"layer {l}");
    }

    [Fact]
    public void StepMovesValuesInPlaceInsteadOfReplacingTensors()
    {
        var model = Mlp.Create(new[] { 30, 20, 10 }, seed: 16);
        TestKit.Sparsify(model, 0.5, layers: new[] { 0 });
        var weights = model.State.Select(l => l.Weight).ToArray();
        var hidden = model.State[0].MaskedValues!;
        var original = TestKit.Snap(model);
        TestKit.Sparsify(model, 0.8, PruneScope.Global);
        // The live weights stay the same tensors; a layer that had a mask keeps its hidden tensor.
        for (int l = 0; l < model.LayerCount; l++) Assert.Same(weights[l], model.State[l].Weight);
        Assert.Same(hidden, model.State[0].MaskedValues);
        Assert.NotNull(model.State[1].MaskedValues);
        // And the underlying values are untouched: Sparsity 0 gives back the original weights.
        TestKit.Sparsify(model, 0, PruneScope.Global);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var u = original.Layers[l].Weight.Select((w, k) => original.Layers[l].MaskedValues is { } h ? w + h[k] : w).ToArray();
            TestKit.BitEqual(u, TestKit.W(model, l), $"layer {l}");
            Assert.Null(model.State[l].Keep);
        }
    }

    [Fact]
    public void PlanForLayersThatChangedShapeIsRefusedBeforeAnythingChanges()
    {
        var model = Mlp.Create(new[] { 8, 6, 5, 3 }, seed: 15);
        TestKit.Sparsify(model, 0.3);
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.6, Scope = PruneScope.Global });
        TestKit.Prune(model, 0.5, PruneStructure.Neuron);
        var after = TestKit.Snap(model);
        Assert.Throws<InvalidOperationException>(() => Sparsifier.Apply(model, plan, null));
        TestKit.SameState(after, model);
    }

    [Fact]
    public void PlanCanBeAppliedOnlyOnce()
    {
        var model = Mlp.Create(new[] { 6, 5, 4 }, seed: 14);
        using var plan = Sparsifier.Plan(model, new SparsityRequest { Sparsity = 0.5 });
        Sparsifier.Apply(model, plan, null);
        var after = TestKit.Snap(model);
        Assert.Throws<InvalidOperationException>(() => Sparsifier.Apply(model, plan, null));
        TestKit.SameState(after, model);
    }
}
