using Xunit;
using static TorchSharp.torch;

namespace SparsePrune.Tests;

/// <summary>
/// The activation classes: each forward pass against its closed form written out here in double,
/// the registry (names, aliases, errors), the spelling files use and its round trip, and how
/// New-Mlp's two parameters resolve.
/// </summary>
public class ActivationTests
{
    /// <summary>Every activation, with parameters where it has them (negative and positive slopes, β, a low threshold).</summary>
    public static TheoryData<string> Spellings() => new()
    {
        "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "LeakyReLU(0.2)", "LeakyReLU(-0.5)", "ELU", "ELU(0.5)",
        "SiLU", "Softplus", "Softplus(2)", "Softplus(0.5,3)", "Identity",
    };

    /// <summary>erf, Abramowitz and Stegun 7.1.26 (|error| below 1.5e-7).</summary>
    private static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }

    /// <summary>The closed form of <paramref name="a"/>, from its name and parameters only.</summary>
    private static double ClosedForm(Activation a, double x)
    {
        var p = a.Parameters;
        return a.Name switch
        {
            "ReLU" => Math.Max(0, x),
            "Tanh" => Math.Tanh(x),
            "Sigmoid" => 1 / (1 + Math.Exp(-x)),
            "GELU" => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
            "LeakyReLU" => x >= 0 ? x : p[0] * x,
            "ELU" => x > 0 ? x : p[0] * (Math.Exp(x) - 1),
            "SiLU" => x / (1 + Math.Exp(-x)),
            "Softplus" => p[0] * x > p[1] ? x : Math.Log(1 + Math.Exp(p[0] * x)) / p[0],
            "Identity" => x,
            _ => throw new NotSupportedException(a.Name),
        };
    }

    private static readonly double[] Points =
        Enumerable.Range(-60, 121).Select(i => i / 4.0).Concat(new[] { -1e-3, 1e-3, 1.49, 1.51, 2.99, 3.01, 19.9, 20.1 }).ToArray();

    [Theory]
    [MemberData(nameof(Spellings))]
    public void TheTensorForwardIsTheClosedForm(string spelling)
    {
        var a = Activation.Parse(spelling);
        using var scope = NewDisposeScope();
        var y = a.Forward(tensor(Points.Select(v => (float)v).ToArray())).data<float>().ToArray();
        for (int i = 0; i < Points.Length; i++)
        {
            double want = ClosedForm(a, (float)Points[i]);
            Assert.True(Math.Abs(y[i] - want) <= 1e-5 * Math.Max(1, Math.Abs(want)), $"{a}({Points[i]}) = {y[i]}, closed form {want}");
        }
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void TheScalarForwardIsTheClosedForm(string spelling)
    {
        var a = Activation.Parse(spelling);
        foreach (var x in Points)
        {
            double want = ClosedForm(a, x);
            Assert.True(Math.Abs(a.Forward(x) - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{a}({x}) = {a.Forward(x)}, closed form {want}");
        }
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void TheSpellingReadsBackAsTheSameActivation(string spelling)
    {
        var a = Activation.Parse(spelling);
        Assert.Equal(spelling, a.ToString());
        Assert.Equal(a, Activation.Parse(a.ToString()));
        Assert.Equal(a, Activation.FromFile(a.ToString()));
        Assert.Equal(a.GetHashCode(), Activation.Parse(a.ToString()).GetHashCode());
    }

    [Fact]
    public void EveryActivationIsRegisteredUnderItsNameAndAliases()
    {
        Assert.Equal(new[] { "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "ELU", "SiLU", "Softplus", "Identity", "Logistic", "Swish" }, Activation.Names);
        Assert.Equal(9, Activation.Defaults.Select(a => a.GetType()).Distinct().Count());
        Assert.Equal(Activation.Sigmoid, Activation.Parse("Logistic"));
        Assert.Equal(Activation.Sigmoid, Activation.Parse("logistic"));
        Assert.Equal(Activation.SiLU, Activation.Parse("Swish"));
        Assert.Equal(Activation.LeakyReLU, Activation.Parse("leakyrelu ( 0.01 )"));
        // Files name the activation exactly, as they always did: no alias, no other case.
        Assert.Null(Activation.FromFile("Logistic"));
        Assert.Null(Activation.FromFile("relu"));
        Assert.Null(Activation.FromFile("LeakyReLU(x)"));
    }

    [Fact]
    public void DefaultParametersAreSpelledByTheNameAlone()
    {
        // An older file's "LeakyReLU" is the slope 0.01, and the slope 0.01 is still written "LeakyReLU".
        Assert.Equal(new[] { 0.01 }, Activation.Parse("LeakyReLU").Parameters);
        Assert.Equal("LeakyReLU", Activation.Create("LeakyReLU", new[] { 0.01 }).ToString());
        Assert.Equal(new[] { 1.0 }, Activation.ELU.Parameters);
        Assert.Equal(new[] { 1.0, 20.0 }, Activation.Softplus.Parameters);
        Assert.Equal("Softplus(1,10)", Activation.Create("Softplus", new[] { 1.0, 10.0 }).ToString());
        Assert.Equal("Softplus(2)", Activation.Create("Softplus", new[] { 2.0 }).ToString());
        Assert.Empty(Activation.ReLU.Parameters);
    }

    [Fact]
    public void ActivationsAreEqualByKindAndParameters()
    {
        var a = Activation.Create("LeakyReLU", new[] { 0.2 });
        Assert.True(a == Activation.Parse("LeakyReLU(0.2)"));
        Assert.True(a != Activation.LeakyReLU);
        Assert.NotEqual(Activation.Sigmoid, Activation.SiLU);
        Assert.True(Activation.Create("LeakyReLU", new[] { 0.123456789 }).EqualsAtFloatPrecision(Activation.Create("LeakyReLU", new[] { (double)0.123456789f })));
    }

    [Fact]
    public void BadNamesAndParametersAreRefused()
    {
        Assert.Contains("Softplus", TestKit.Throws("UnknownActivation", () => Activation.Parse("Mish")).Message);
        Assert.Contains("takes no parameter", TestKit.Throws("ActivationParameterNotApplicable", () => Activation.Create("ReLU", new[] { 0.1 })).Message);
        TestKit.Throws("ActivationParameterNotApplicable", () => Activation.Parse("LeakyReLU(0.1,0.2)"));
        Assert.Contains("beta", TestKit.Throws("InvalidActivationParameter", () => Activation.Parse("Softplus(0)")).Message);
        TestKit.Throws("InvalidActivationParameter", () => Activation.Create("LeakyReLU", new[] { double.NaN }));
        TestKit.Throws("InvalidActivationParameter", () => Activation.Create("ELU", new[] { double.PositiveInfinity }));
        TestKit.Throws("InvalidActivation", () => Activation.Parse("LeakyReLU(0.2"));
        TestKit.Throws("InvalidActivation", () => Activation.Parse("LeakyReLU(0,2x)"));
    }

    [Fact]
    public void NewMlpsTwoParametersResolveToOneActivation()
    {
        Assert.Equal(Activation.ReLU, Activation.Resolve(null, null));
        Assert.Equal(Activation.Tanh, Activation.Resolve(Activation.Tanh, null));
        Assert.Equal("LeakyReLU(0.2)", Activation.Resolve(Activation.LeakyReLU, new[] { 0.2 }).ToString());
        Assert.Equal("Softplus(2,5)", Activation.Resolve(Activation.Softplus, new[] { 2.0, 5.0 }).ToString());
        Assert.Contains("needs -Activation", TestKit.Throws("ActivationParameterNotApplicable", () => Activation.Resolve(null, new[] { 0.2 })).Message);
        TestKit.Throws("ActivationParameterNotApplicable", () => Activation.Resolve(Activation.Parse("LeakyReLU(0.3)"), new[] { 0.2 }));
        TestKit.Throws("ActivationParameterNotApplicable", () => Activation.Resolve(Activation.GELU, new[] { 0.2 }));
    }

    [Theory]
    [InlineData("ReLU", "ReLU", "{}")]
    [InlineData("Sigmoid", "Sigmoid", "{}")]
    [InlineData("LeakyReLU", "LeakyReLU", "{\"negative_slope\": 0.01}")]
    [InlineData("LeakyReLU(0.2)", "LeakyReLU", "{\"negative_slope\": 0.2}")]
    [InlineData("ELU(0.5)", "ELU", "{\"alpha\": 0.5}")]
    [InlineData("ELU", "ELU", "{\"alpha\": 1.0}")]
    [InlineData("SiLU", "SiLU", "{}")]
    [InlineData("Softplus(2)", "Softplus", "{\"beta\": 2.0, \"threshold\": 20.0}")]
    [InlineData("Identity", "Identity", "{}")]
    public void EachActivationNamesItsTorchModule(string spelling, string module, string kwargs)
    {
        var a = Activation.Parse(spelling);
        Assert.Equal(module, a.TorchModule);
        Assert.Equal(kwargs, a.TorchKwargs);
    }

    [Theory]
    [InlineData("LeakyReLU(0.2)")]
    [InlineData("ELU")]
    [InlineData("SiLU")]
    [InlineData("Softplus(2)")]
    [InlineData("Identity")]
    public void AModelTrainsThroughEachNewActivation(string spelling)
    {
        var data = TestKit.Iris;
        var model = Mlp.Create(new[] { 4, 12, 3 }, Activation.Parse(spelling), seed: 5);
        double before = Accuracy(model, data);
        Trainer.Train(model, data, new TrainingOptions { Epochs = 30, BatchSize = 16, Seed = 1 });
        double after = Accuracy(model, data);
        Assert.True(after > Math.Max(before, 0.8), $"{spelling}: accuracy {after} after training, {before} before");
    }

    /// <summary>Test-split accuracy through the model's own forward pass (the managed reference knows only the first five).</summary>
    private static double Accuracy(Mlp model, Dataset data)
    {
        var y = TestKit.Forward(model, data.TestX, data.TestCount);
        int k = model.Outputs, correct = 0;
        for (int r = 0; r < data.TestCount; r++)
        {
            int best = 0;
            for (int c = 1; c < k; c++) if (y[r * k + c] > y[r * k + best]) best = c;
            if (best == (int)data.TestY[r]) correct++;
        }
        return (double)correct / data.TestCount;
    }
}
