using System.Net;
using System.Text;

namespace Sim.Report.Sweep;

/// <summary>A table of the report: a header and rows of cells.</summary>
public sealed record ReportTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>One figure's part of the report: its heading, its chart (file names in the report's folder; none without runs), and its table.</summary>
public sealed record ReportSection(string Heading, string? Png, string? Svg, ReportTable Table);

/// <summary>What a sweep's report says: the command, lines about the machine and the runs, a section per figure, and the files beside it.</summary>
public sealed record SweepReportContent(
    string Title, string Command, IReadOnlyList<string> Lines, IReadOnlyList<ReportSection> Sections, IReadOnlyList<(string File, string About)> Files);

/// <summary>Writes a sweep's report twice, the same content in each: report.md (for a repository or an editor) and index.html (for a browser).</summary>
public static class SweepReportWriter
{
    public static (string Markdown, string Html) Write(string folder, SweepReportContent content)
    {
        var markdown = Path.Combine(folder, "report.md");
        var html = Path.Combine(folder, "index.html");
        File.WriteAllText(markdown, Markdown(content), new UTF8Encoding(false));
        File.WriteAllText(html, Html(content), new UTF8Encoding(false));
        return (markdown, html);
    }

    private static string Markdown(SweepReportContent content)
    {
        static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
        var md = new StringBuilder();
        md.Append($"# {content.Title}\n\n```\n{content.Command}\n```\n\n");
        foreach (var line in content.Lines)
            md.Append($"{line}\n\n");
        foreach (var section in content.Sections)
        {
            md.Append($"## {section.Heading}\n\n");
            if (section.Png is not null)
                md.Append($"![{section.Heading}]({section.Png})\n\n");
            md.Append("| ").Append(string.Join(" | ", section.Table.Columns.Select(Cell))).Append(" |\n");
            md.Append('|').Append(string.Concat(section.Table.Columns.Select(_ => "---|"))).Append('\n');
            foreach (var row in section.Table.Rows)
                md.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
            md.Append('\n');
        }
        md.Append("## Files\n\n");
        foreach (var (file, about) in content.Files)
            md.Append($"- [{file}]({file}): {about}\n");
        return md.ToString();
    }

    private static string Html(SweepReportContent content)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var html = new StringBuilder();
        html.Append($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{E(content.Title)}</title>
            <style>
            body {"{"} font-family: sans-serif; margin: 1.5em; color: #222; {"}"}
            table {"{"} border-collapse: collapse; margin: 0.5em 0 1.5em; {"}"} td, th {"{"} border: 1px solid #ccc; padding: 2px 8px; text-align: right; {"}"}
            pre {"{"} background: #f5f5f5; padding: 0.5em; white-space: pre-wrap; {"}"} img {"{"} max-width: 100%; border: 1px solid #ddd; {"}"}
            </style></head><body>
            <h1>{E(content.Title)}</h1>
            <pre>{E(content.Command)}</pre>

            """);
        foreach (var line in content.Lines)
            html.Append($"<p>{E(line)}</p>\n");
        foreach (var section in content.Sections)
        {
            html.Append($"<h2>{E(section.Heading)}</h2>\n");
            if (section.Png is not null)
                html.Append($"<p><a href=\"{E(section.Svg ?? section.Png)}\"><img src=\"{E(section.Png)}\" alt=\"{E(section.Heading)}\"></a></p>\n");
            html.Append("<table><tr>").Append(string.Concat(section.Table.Columns.Select(c => $"<th>{E(c)}</th>"))).Append("</tr>\n");
            foreach (var row in section.Table.Rows)
                html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>\n");
            html.Append("</table>\n");
        }
        html.Append("<h2>Files</h2>\n<ul>\n");
        foreach (var (file, about) in content.Files)
            html.Append($"<li><a href=\"{E(file)}\">{E(file)}</a>: {E(about)}</li>\n");
        html.Append("</ul>\n</body></html>\n");
        return html.ToString();
    }
}
