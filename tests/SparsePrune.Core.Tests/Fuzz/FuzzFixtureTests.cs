using Xunit;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// The cases the fuzzer found that broke a reader, kept in tests/data/fuzz/ (README there says
/// what each is): each must now be refused with the reader's own error.
/// </summary>
public class FuzzFixtureTests
{
    private static string Fixture(string folder) => Path.GetDirectoryName(TestKit.DataFile($"fuzz/{folder}/train-labels-idx1-ubyte"))!;

    [Theory]
    [InlineData("idx-image-count-overflow", "InvalidIdxFile")]
    [InlineData("idx-empty-images-too-large", "EmptyDataset")]
    [InlineData("idx-empty-images-size-overflow", "EmptyDataset")]
    [InlineData("idx-empty-images-named", "EmptyDataset")]
    public void IdxHeadersThatOverflowAreRefused(string folder, string errorId) =>
        TestKit.Throws(errorId, () => DatasetLoader.FromIdxFolder(Fixture(folder), new DatasetOptions { Seed = 1 }));
}
