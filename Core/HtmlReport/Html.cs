using System.Globalization;
using System.Net;
using System.Text;

namespace SparsePrune;

/// <summary>
/// Writing the report's markup: escaped text, numbers in the invariant culture, and tables whose
/// cells carry a sort key. The page is XHTML-compatible HTML5 (every element closed, attributes
/// quoted) so that any XML parser reads it, and everything it needs is inline.
/// </summary>
internal static class Html
{
    public static string Escape(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    public static string Percent(double value) => (100 * value).ToString("0.00", CultureInfo.InvariantCulture) + " %";
    public static string Number(double value, string format = "0.####") => value.ToString(format, CultureInfo.InvariantCulture);
    public static string Ratio(double value) => value.ToString("0.##", CultureInfo.InvariantCulture) + "×";

    /// <summary>A cell: its text, and the key a click on the header sorts by (null: the text).</summary>
    public readonly record struct Cell(string Text, double? Key = null)
    {
        public static implicit operator Cell(string text) => new(text);
    }

    public static Cell Num(long v) => new(Count(v), v);
    public static Cell Num(double v, string text) => new(text, v);

    /// <summary>
    /// A table with a caption; a click on a header sorts by that column when scripts run (the
    /// page's one inline script), and the table reads the same without them.
    /// </summary>
    public static void Table(StringBuilder html, string caption, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<Cell>> rows, string? @class = null)
    {
        html.Append("<table class=\"sortable").Append(@class is null ? "" : " " + @class).Append("\"><caption>").Append(Escape(caption)).Append("</caption><thead><tr>");
        foreach (var h in headers) html.Append("<th scope=\"col\">").Append(Escape(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var c in row)
            {
                html.Append("<td");
                if (c.Key is { } key && double.IsFinite(key)) html.Append(" data-sort=\"").Append(key.ToString("R", CultureInfo.InvariantCulture)).Append('"');
                html.Append('>').Append(Escape(c.Text)).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>\n");
    }

    public const string Style = """
        body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 24px auto; max-width: 1320px; color: #1a1a1a; line-height: 1.4; }
        h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 21px; border-bottom: 2px solid #1565C0; padding-bottom: 3px; margin-top: 30px; }
        h3 { font-size: 17px; margin-top: 22px; } .meta { color: #555; font-size: 13px; }
        dl.headline { display: grid; grid-template-columns: max-content auto; gap: 4px 18px; background: #F3F6FB; padding: 12px 16px; border-radius: 6px; }
        dl.headline dt { font-weight: bold; } dl.headline dd { margin: 0; font-family: "DejaVu Sans Mono", monospace; font-size: 14px; }
        table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13px; }
        caption { text-align: left; font-weight: bold; padding: 4px 0; }
        th, td { border: 1px solid #C8CDD4; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #E8EDF5; cursor: pointer; } td[data-sort] { text-align: right; }
        tbody tr:nth-child(even) { background: #FAFBFD; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; } .charts svg { border: 1px solid #E0E0E0; background: white; max-width: 100%; height: auto; }
        details { margin: 8px 0; } summary { font-size: 19px; font-weight: bold; cursor: pointer; padding: 4px 0; }
        .pareto { color: #C62828; font-weight: bold; } .none { color: #777; font-style: italic; }
        """;

    /// <summary>Sorts a table by the clicked column (numbers by their data-sort key); a second click reverses.</summary>
    public const string SortScript = """
        document.querySelectorAll('table.sortable th').forEach(function (th, _, all) {
          th.addEventListener('click', function () {
            var table = th.closest('table'), body = table.tBodies[0], col = Array.prototype.indexOf.call(th.parentNode.children, th);
            var dir = th.getAttribute('data-dir') === 'asc' ? -1 : 1;
            th.setAttribute('data-dir', dir === 1 ? 'asc' : 'desc');
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = a.cells[col], y = b.cells[col];
              var kx = x.getAttribute('data-sort'), ky = y.getAttribute('data-sort');
              // No ampersands or angle brackets here: the page also parses as XML.
              if (kx !== null) { if (ky !== null) return dir * (parseFloat(kx) - parseFloat(ky)); }
              return dir * x.textContent.localeCompare(y.textContent);
            });
            rows.forEach(function (r) { body.appendChild(r); });
          });
        });
        """;
}
