using Xunit;

namespace SparsePrune.Tests;

/// <summary>A step changes all of the model or nothing; when even the undo fails, the error says so.</summary>
public class TransactionTests
{
    [Fact]
    public void AFailedUndoSaysTheModelMayBeChangedAndKeepsBothErrors()
    {
        var model = Mlp.Create(new[] { 3, 2 }, seed: 1);
        var e = TestKit.Throws("UndoFailed", () => ModelTransaction.Run<int>(model,
            () => throw new InvalidOperationException("the step"),
            () => throw new InvalidOperationException("the undo")));
        var both = Assert.IsType<AggregateException>(e.InnerException);
        Assert.Equal(new[] { "the step", "the undo" }, both.InnerExceptions.Select(x => x.Message));
    }
}
