using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ScottPlot;

namespace SparsePrune;

/// <summary>
/// A ScottPlot plot as an inline SVG element: the XML declaration dropped (an HTML page holds
/// the element, not a document), glyph position lists made valid, and the plot's colours shared
/// by every chart so that kept, masked and deleted read the same everywhere.
/// </summary>
internal static partial class SvgChart
{
    public static readonly Color Kept = Color.FromHex("#2E7D32");
    public static readonly Color Masked = Color.FromHex("#F9A825");
    public static readonly Color Deleted = Color.FromHex("#C62828");
    public static readonly Color Primary = Color.FromHex("#1565C0");
    public static readonly Color Secondary = Color.FromHex("#6A1B9A");
    public const int Width = 600, Height = 360;

    /// <summary>Distinct colours for series (layers, models), in order.</summary>
    public static readonly Color[] Series =
    {
        Color.FromHex("#1565C0"), Color.FromHex("#C62828"), Color.FromHex("#2E7D32"), Color.FromHex("#6A1B9A"),
        Color.FromHex("#EF6C00"), Color.FromHex("#00838F"), Color.FromHex("#AD1457"), Color.FromHex("#4E342E"),
    };

    public static Color SeriesColor(int k) => Series[k % Series.Length];

    /// <summary>A plot with the report's look: sans-serif text, a title, axis labels.</summary>
    public static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title, size: 15);
        plot.XLabel(xLabel, size: 13);
        plot.YLabel(yLabel, size: 13);
        plot.Font.Set("DejaVu Sans");
        return plot;
    }

    /// <summary>
    /// The plot rendered as an &lt;svg&gt; element with a title for screen readers. A chart title
    /// wider than the chart (a long model name in it) is shortened with an ellipsis: the
    /// description keeps the whole text. <paramref name="tooltips"/> (text shown, full text), in
    /// drawing order, give shortened texts their full text as an SVG &lt;title&gt;.
    /// </summary>
    public static string Render(Plot plot, string description, int width = Width, int height = Height,
        IReadOnlyList<(string Shown, string Full)>? tooltips = null)
    {
        FitTitle(plot, width, height);
        var svg = plot.GetSvgXml(width, height);
        svg = XmlDeclaration().Replace(svg, "");
        // Skia writes per-glyph positions as "x0, x1, " (a trailing separator SVG's grammar rejects).
        svg = PositionList().Replace(svg, m => $"{m.Groups[1].Value}=\"{string.Join(' ', m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}\"");
        if (tooltips is { Count: > 0 }) svg = AddTooltips(svg, tooltips);
        int open = svg.IndexOf("<svg", StringComparison.Ordinal), close = svg.IndexOf('>', open);
        var head = svg[..close];
        if (!head.Contains("viewBox", StringComparison.Ordinal))
            head += string.Create(CultureInfo.InvariantCulture, $" viewBox=\"0 0 {width} {height}\" role=\"img\"");
        return head + ">" + $"<title>{Html.Escape(description)}</title>" + svg[(close + 1)..].Trim();
    }

    /// <summary>
    /// Shortens the plot's title, if need be, to fit the chart with a margin on each side. ScottPlot
    /// centres the title over the data area, which sits right of the chart's centre (the left axis
    /// is wider than the right), so the room is twice the distance from that centre to the nearer edge.
    /// </summary>
    private static void FitTitle(Plot plot, int width, int height)
    {
        var title = plot.Axes.Title.Label;
        if (string.IsNullOrEmpty(title.Text)) return;
        using var paint = Paint.NewDisposablePaint();
        // A title under half the chart's width fits wherever the data area is: no layout needed.
        if (title.Measure(title.Text, paint).Width <= width / 2f) return;
        plot.RenderInMemory(width, height);
        float centre = plot.RenderManager.LastRender.DataRect.HorizontalCenter;
        float room = 2 * (Math.Min(centre, width - centre) - TitleMargin);
        if (title.Measure(title.Text, paint).Width > room)
            title.Text = PointLabels.Shorten(title.Text, room, s => title.Measure(s, paint).Width);
    }

    private const float TitleMargin = 10;

    /// <summary>
    /// Puts &lt;title&gt;full text&lt;/title&gt; into each &lt;text&gt; element that shows a
    /// shortened text, matched in drawing order (two long names may shorten to the same text).
    /// </summary>
    private static string AddTooltips(string svg, IReadOnlyList<(string Shown, string Full)> tooltips)
    {
        int next = 0;
        return TextElement().Replace(svg, m =>
        {
            if (next >= tooltips.Count || WebUtility.HtmlDecode(m.Groups[2].Value).Trim() != tooltips[next].Shown) return m.Value;
            return m.Groups[1].Value + "<title>" + Html.Escape(tooltips[next++].Full) + "</title>" + m.Groups[2].Value + "</text>";
        });
    }

    [GeneratedRegex(@"(<text\b[^>]*>)([^<]*)</text>")]
    private static partial Regex TextElement();

    [GeneratedRegex(@"<\?xml[^>]*\?>\s*")]
    private static partial Regex XmlDeclaration();

    [GeneratedRegex(@"\b(x|y)=""([-0-9.eE]+(?:,\s*[-0-9.eE]*)+)""")]
    private static partial Regex PositionList();
}
