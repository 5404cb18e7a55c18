using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// Compress-Mlp's candidates made from their specs: what a sweep worker does (the model as given
/// and the basis read from bytes, the candidate written back to bytes and read by the session)
/// gives the very model the session makes itself, stage by stage; the specs and the recipe
/// travel as JSON unchanged; the workers' threads. The search over workers: tests/Compress.Tests.ps1.
/// </summary>
public class CompressionCandidateFactoryTests
{
    private static readonly CompressionRecipe Recipe = new()
    {
        Seed = 3, ValidationFraction = 0.1 + 0.2, Epochs = 2, FineTuneEpochs = 1, BatchSize = 128, Objective = CompressionObjective.FileSize,
    };

    private static void SameModel(Mlp expected, Mlp actual, string what)
    {
        Assert.Equal(expected.Widths, actual.Widths);
        for (int l = 0; l < expected.LayerCount; l++)
        {
            TestKit.BitEqual(TestKit.W(expected, l), TestKit.W(actual, l), $"{what}: layer {l} weights");
            TestKit.BitEqual(TestKit.Floats(expected.State[l].Bias), TestKit.Floats(actual.State[l].Bias), $"{what}: layer {l} biases");
        }
        Assert.Equal(expected.History.Select(h => h.ToString() + h.Note + h.Metric), actual.History.Select(h => h.ToString() + h.Note + h.Metric));
        Assert.Equal(CompressionCandidateFactory.SizeOf(expected), CompressionCandidateFactory.SizeOf(actual));
    }

    [Fact]
    public void AWorkerMakesEveryStageBitIdenticalToTheSession()
    {
        var data = TestKit.Digits;
        var origin = Mlp.Create(new[] { 64, 16, 10 }, seed: 2);
        Trainer.Train(origin, data, new TrainingOptions { Epochs = 2, Seed = 2 });
        origin.EnsureBaseline(data);
        var validation = Recipe.Validation(data);
        var training = Recipe.Training(null);
        var originBytes = SpmlpFormat.CanonicalBytes(origin);
        var dataBytes = DatasetBytes.ToBytes(data);
        var workerData = DatasetBytes.FromBytes(dataBytes);

        Mlp Session(CompressionCandidateSpec spec, Mlp? basis)
        {
            var (model, completed) = CompressionCandidateFactory.Make(origin, basis, validation, Recipe, training, spec, null, CancellationToken.None);
            Assert.True(completed);
            return model;
        }
        Mlp Worker(CompressionCandidateSpec spec, Mlp? basis) => CompressionCandidateFactory.Received(
            CompressionCandidateFactory.MakeBytes(originBytes, workerData, Recipe.ToJson(), spec.ToJson(), basis is null ? null : SpmlpFormat.CanonicalBytes(basis), null),
            basis ?? origin, validation, "the test's candidate");

        var reference = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Reference };
        SameModel(Session(reference, null), Worker(reference, null), "reference");
        var pruned = CompressionCandidateSpec.Pruning(PruneStructure.Connection, 0.75);
        var prunedHere = Session(pruned, null);
        SameModel(prunedHere, Worker(pruned, null), "pruned");
        var neurons = CompressionCandidateSpec.Pruning(PruneStructure.Neuron, 0.5);
        SameModel(Session(neurons, null), Worker(neurons, null), "neurons");
        var bits = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Bits, CodeBits = 3, Basis = pruned };
        var bitsHere = Session(bits, prunedHere);
        SameModel(bitsHere, Worker(bits, prunedHere), "bits");
        var exact = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Lean, LeanKind = CompressionCandidateSpec.LeanExact, Basis = bits };
        var exactHere = Session(exact, bitsHere);
        SameModel(exactHere, Worker(exact, bitsHere), "lean, exact");
        var rounded = exact with { LeanKind = CompressionCandidateSpec.LeanRounded, Basis = exact };
        SameModel(Session(rounded, exactHere), Worker(rounded, exactHere), "lean, rounded");
    }

    [Fact]
    public void SpecsAndTheRecipeTravelAsJsonUnchanged()
    {
        var spec = new CompressionCandidateSpec
        {
            Stage = CompressionCandidateSpec.Lean, LeanKind = CompressionCandidateSpec.LeanExact,
            Basis = new CompressionCandidateSpec { Stage = CompressionCandidateSpec.Bits, CodeBits = 4, Basis = CompressionCandidateSpec.Pruning(PruneStructure.Connection, 0.985) },
        };
        var back = CompressionCandidateSpec.FromJson(spec.ToJson());
        Assert.Equal(spec, back);
        Assert.Equal(0.985, back.Basis!.Basis!.Ratio);
        Assert.NotEqual(spec, spec with { Basis = spec.Basis with { CodeBits = 5 } });
        var recipe = CompressionRecipe.FromJson(Recipe.ToJson());
        Assert.Equal(Recipe, recipe);
        Assert.Equal(BitConverter.DoubleToInt64Bits(0.1 + 0.2), BitConverter.DoubleToInt64Bits(recipe.ValidationFraction));
        TestKit.Throws("CorruptCandidateSpec", () => CompressionCandidateSpec.FromJson("{not json"));
    }

    [Theory]
    [InlineData(2, 2, null, 1)]
    [InlineData(3, 8, null, 2)]
    [InlineData(2, 8, 3, 3)]
    [InlineData(null, 8, null, 0)]
    [InlineData(null, 8, 2, 2)]
    public void WorkerProcessesSplitTheCoresAndTheSessionFollows(int? workers, int cores, int? given, int threads) =>
        Assert.Equal(threads, new CompressionSettings { MaxAccuracyDrop = 0.01, ThrottleLimit = workers, ProcessorCount = cores, ThreadsPerWorker = given }.Resolve().Threads);

    [Fact]
    public void OneEngineAtATimeAndCountsAboveZero()
    {
        TestKit.Throws("ParameterNotApplicable", () => new CompressionSettings { MaxAccuracyDrop = 0.01, ThrottleLimit = 2, HostName = new[] { "a" } }.Resolve());
        TestKit.Throws("InvalidThrottleLimit", () => new CompressionSettings { MaxAccuracyDrop = 0.01, ThrottleLimit = 0 }.Resolve());
        TestKit.Throws("InvalidThreadsPerWorker", () => new CompressionSettings { MaxAccuracyDrop = 0.01, ThreadsPerWorker = 0 }.Resolve());
        Assert.Equal(0, new CompressionSettings { MaxAccuracyDrop = 0.01, HostName = new[] { "a", "a" } }.Resolve().Threads);
    }
}
