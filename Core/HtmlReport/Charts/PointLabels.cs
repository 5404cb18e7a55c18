using System.Globalization;
using ScottPlot;
using ScottPlot.Plottables;

namespace SparsePrune;

/// <summary>
/// Names written beside points, kept whole inside the data area. ScottPlot clips plottables to
/// the data area, so a name drawn to the right of a point near the right edge was cut mid-word
/// ("churn-budge" of 'churn-budget-1pt'). Each name is measured with the font it is drawn in:
/// it goes to the right of its point when it fits there, else to the left; a name too long for
/// either side, or wider than half the data area, is shortened with an ellipsis and keeps its
/// full text in a tooltip (an SVG &lt;title&gt;); the models table lists the full names. A wider margin alone would not do: the chart's width is fixed, and a margin
/// wide enough for a long name would squeeze every point into a strip.
/// </summary>
internal static class PointLabels
{
    /// <summary>Pixels between a point and its name.</summary>
    public const float Gap = 8;
    private const float Lift = 4;
    public const string Ellipsis = "…";

    /// <summary>A name beside (<paramref name="x"/>, <paramref name="y"/>), placed by <see cref="Fit"/>.</summary>
    public static Text Add(Plot plot, string name, double x, double y)
    {
        var label = plot.Add.Text(name, x, y);
        label.LabelFontSize = 11;
        label.LabelFontColor = Colors.Black.WithAlpha(0.8);
        label.LabelAlignment = Alignment.UpperLeft;
        label.OffsetX = Gap;
        label.OffsetY = -Lift;
        return label;
    }

    /// <summary>
    /// Places every label inside the data area of the plot as it renders at
    /// <paramref name="width"/> × <paramref name="height"/>; returns the shortened ones, in the
    /// order given, as (text shown, full name) for <see cref="SvgChart.Render"/>'s tooltips.
    /// </summary>
    public static IReadOnlyList<(string Shown, string Full)> Fit(Plot plot, IReadOnlyList<Text> labels, int width, int height)
    {
        var shortened = new List<(string, string)>();
        if (labels.Count == 0) return shortened;
        // One render in memory lays the plot out: where the data area is and where each point lands.
        plot.RenderInMemory(width, height);
        var area = plot.RenderManager.LastRender.DataRect;
        using var paint = Paint.NewDisposablePaint();
        foreach (var label in labels)
        {
            var p = plot.GetPixel(label.Location);
            string full = label.LabelText;
            var size = label.LabelStyle.Measure(full, paint);
            float right = area.Right - (p.X + Gap), left = p.X - Gap - area.Left;
            bool toRight = size.Width <= right || (size.Width > left && right >= left);
            // No name takes more than half the data area's width, so that few run under the legend or other points.
            float room = Math.Min(toRight ? right : left, area.Width / 2);
            if (size.Width > room)
            {
                label.LabelText = Shorten(full, room, s => label.LabelStyle.Measure(s, paint).Width);
                shortened.Add((label.LabelText, full));
            }
            // Below the point unless that runs past the bottom of the data area, then above it.
            bool below = p.Y - Lift + size.Height <= area.Bottom;
            label.LabelAlignment = (toRight, below) switch
            {
                (true, true) => Alignment.UpperLeft,
                (true, false) => Alignment.LowerLeft,
                (false, true) => Alignment.UpperRight,
                (false, false) => Alignment.LowerRight,
            };
            label.OffsetX = toRight ? Gap : -Gap;
            label.OffsetY = -Lift;
        }
        return shortened;
    }

    /// <summary>
    /// The longest start of <paramref name="text"/> (whole characters, never half of a surrogate
    /// pair or a combining sequence) that fits <paramref name="room"/> pixels with an ellipsis.
    /// </summary>
    internal static string Shorten(string text, float room, Func<string, float> measure)
    {
        var starts = StringInfo.ParseCombiningCharacters(text);
        if (starts.Length == 0) return text;
        int lo = 0, hi = starts.Length - 1;
        // The largest k whose first k characters, trimmed, and the ellipsis fit (k = 0: the ellipsis alone).
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (measure(Cut(text, starts, mid)) <= room) lo = mid; else hi = mid - 1;
        }
        return Cut(text, starts, lo);
    }

    private static string Cut(string text, int[] starts, int characters) =>
        text[..starts[characters]].TrimEnd() + Ellipsis;
}
