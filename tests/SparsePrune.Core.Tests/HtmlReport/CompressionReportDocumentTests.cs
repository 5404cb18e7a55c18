using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>
/// The HTML report's parts: histograms against a brute-force binning, the Pareto front by hand,
/// SVG as inline markup, and the page as well-formed XML whatever it is given.
/// </summary>
public class CompressionReportDocumentTests
{
    private static XDocument Parse(string html)
    {
        Assert.StartsWith("<!DOCTYPE html>", html);
        return XDocument.Parse(html["<!DOCTYPE html>".Length..]);
    }

    [Fact]
    public void HistogramsCountThePresentNonZeroMagnitudesPerBin()
    {
        var model = Mlp.Create(new[] { 30, 20, 5 }, seed: 4);
        TestKit.Prune(model, 0.5);
        TestKit.Sparsify(model, 0.4, layers: new[] { 0 });
        Quantizer.Apply(model, Quantizer.Plan(model, new QuantizationRequest { Method = QuantizationMethod.KMeans, Bits = new[] { 3 } }), null);
        for (int i = 0; i < model.LayerCount; i++)
        {
            var h = WeightHistogram.Of(model.State[i], i, bins: 8);
            var w = TestKit.W(model, i);
            var deleted = TestKit.Bools(model.State[i].Deleted);
            var present = Enumerable.Range(0, w.Length).Where(k => deleted.Length == 0 || !deleted[k]).Select(k => Math.Abs((double)w[k])).ToArray();
            var nonZero = present.Where(v => v != 0).ToArray();
            Assert.Equal(present.Length - nonZero.Length, h.Zeros);
            Assert.Equal(nonZero.Length, h.Counts.Sum());
            double max = nonZero.Max();
            Assert.Equal(max, h.Edges[^1], 6);
            var expected = new long[8];
            foreach (var v in nonZero) expected[Math.Min(7, (int)Math.Floor(v * 8 / max))]++;
            Assert.Equal(expected, h.Counts);
            Assert.Equal(model.State[i].Quantization!.Codebook, h.SharedValues);
        }
    }

    [Fact]
    public void TheParetoFrontKeepsThePointsNothingBeatsOnBothAxes()
    {
        var points = new List<(double, double)> { (1, 0.95), (2, 0.94), (3, 0.90), (2.5, 0.80), (3, 0.92), (1, 0.95) };
        // (3, 0.90) loses to (3, 0.92), (2.5, 0.80) to (3, 0.92); equal points are both kept.
        Assert.Equal(new[] { true, true, false, false, true, true }, ParetoFront.Of(points));
    }

    [Fact]
    public void ChartsAreInlineSvgWithATitleAndValidPositionLists()
    {
        var plot = SvgChart.New("t", "x", "y");
        plot.Add.Scatter(new double[] { 1, 2, 3 }, new double[] { 3, 1, 2 });
        var svg = SvgChart.Render(plot, "a <described> chart");
        Assert.StartsWith("<svg", svg);
        Assert.DoesNotContain("<?xml", svg);
        Assert.Contains("viewBox=\"0 0 600 360\"", svg);
        var root = XElement.Parse(svg);
        Assert.Equal("a <described> chart", root.Elements().First(e => e.Name.LocalName == "title").Value);
        // Every x or y attribute is a space-separated list of numbers: no trailing separators.
        foreach (var a in root.Descendants().Attributes().Where(a => a.Name.LocalName is "x" or "y"))
            Assert.Matches(new Regex(@"^-?[0-9.eE+-]+( -?[0-9.eE+-]+)*$"), a.Value);
    }

    [Fact]
    public void ShortenedTextsKeepWholeCharactersAndAreTheLongestThatFit()
    {
        // 10 pixels a character (a text element: a surrogate pair or a letter with its accent is one).
        float Measure(string t) => 10f * new StringInfo(t).LengthInTextElements;
        var text = "churn-\U0001F600\U0001F600-budge\u0301t-1pt";
        for (float room = 10; room <= 10 * new StringInfo(text).LengthInTextElements; room += 10)
        {
            var shown = PointLabels.Shorten(text, room, Measure);
            Assert.EndsWith(PointLabels.Ellipsis, shown);
            Assert.True(Measure(shown) <= room, $"'{shown}' in {room} px");
            var start = shown[..^PointLabels.Ellipsis.Length];
            Assert.StartsWith(start, text, StringComparison.Ordinal);
            // Cut between text elements: no half of a surrogate pair, no accent without its letter.
            var boundaries = StringInfo.ParseCombiningCharacters(text);
            Assert.Contains(start.Length, boundaries);
            // The longest: one more character (and the ellipsis) would not fit.
            var more = boundaries.Where(i => i > start.Length).DefaultIfEmpty(text.Length).First();
            if (more < text.Length) Assert.True(Measure(text[..more].TrimEnd() + PointLabels.Ellipsis) > room, $"'{shown}' in {room} px");
        }
    }

    [Fact]
    public void AChartTitleWiderThanTheChartIsShortenedAndItsDescriptionKeepsTheWholeName()
    {
        var name = string.Concat(Enumerable.Repeat("a-very-long-model-name-", 6));
        var history = new[] { new HistoryRecord { Step = 1, Operation = "Train", WeightsAfter = 10, NonZeroAfter = 10 } };
        var root = XElement.Parse(HistoryChart.Render(name, history));
        Assert.Contains(name, root.Elements().First(e => e.Name.LocalName == "title").Value);
        var title = root.Descendants().Where(e => e.Name.LocalName == "text").Single(e => e.Value.Trim().StartsWith("History: ", StringComparison.Ordinal));
        Assert.EndsWith(PointLabels.Ellipsis, title.Value.Trim());
        // Inside the chart: the glyphs start right of 0 and the last one well before the right edge.
        double x = double.Parse(Regex.Match(title.Attribute("transform")!.Value, @"translate\(([-\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var glyphs = title.Attribute("x")!.Value.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(x + glyphs[0] >= 0, $"starts at {x + glyphs[0]}");
        Assert.True(x + glyphs[^1] + 15 <= SvgChart.Width, $"last glyph at {x + glyphs[^1]}");
    }

    [Fact]
    public void PagesParseAsXmlForOneModelManyModelsAndSensitivityAlone()
    {
        var data = TestKit.Digits;
        var models = new[] { 0.3, 0.8 }.Select(r =>
        {
            var m = Mlp.Create(new[] { 64, 16, 10 }, seed: 3);
            m.Name = $"ratio <{r}> & more";
            TestKit.Prune(m, r);
            return m;
        }).ToList();
        var one = new CompressionReportDocument { Subjects = new[] { ReportSubject.FromModel(models[0], data) } }.Render();
        var many = new CompressionReportDocument { Title = "A & B", Subjects = models.Select(m => ReportSubject.FromModel(m, data)).ToList() }.Render();
        var sensitivity = new CompressionReportDocument
        {
            Sensitivity = new[] { 0, 1 }.SelectMany(layer => new[] { 0.5, 0.9 }.Select(r => new LayerSensitivity
            {
                Model = "m", Layer = layer, Shape = "64x16", Ratio = r, MetricName = "Accuracy", BaselineMetric = 0.9, Metric = 0.9 - r / 10, Drop = r / 10,
            })).ToList(),
        }.Render();
        foreach (var html in new[] { one, many, sensitivity })
        {
            var page = Parse(html);
            Assert.Single(page.Descendants("title"));
            Assert.Single(page.Descendants("script"));
        }
        Assert.Equal("A & B", Parse(many).Descendants("title").Single().Value);
        Assert.Contains(Parse(many).Descendants("td"), td => td.Value == "ratio <0.3> & more");
        // Per model a layer chart, a histogram per layer and the timeline of its history; two trade-off charts.
        Assert.All(models, m => Assert.NotEmpty(m.History));
        Assert.Equal(models.Sum(m => 1 + m.LayerCount + 1) + 2, Regex.Matches(many, "<svg").Count);
        Assert.Throws<InvalidOperationException>(() => new CompressionReportDocument().Render());
    }
}
