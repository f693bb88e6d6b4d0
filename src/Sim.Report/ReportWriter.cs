using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text;
using Sim.Report.Pictures;

namespace Sim.Report;

/// <summary>The files of a run's report: the history (JSON Lines), the timeline and the message diagram (PNG and SVG), and index.html.</summary>
public sealed record ReportFiles(string Folder, string Index, string History, Picture Timeline, Picture Messages);

/// <summary>Writes a run's report folder: history.jsonl, timeline.png/.svg, messages.png/.svg and index.html, which shows them with the summary.</summary>
public static class ReportWriter
{
    public static ReportFiles Write(string folder, History history, ReportSummary summary)
    {
        Directory.CreateDirectory(folder);
        var historyPath = Path.Combine(folder, "history.jsonl");
        HistoryFile.Write(history, historyPath);
        var timeline = Timeline.Draw(history, $"{summary.Title}: timeline", Path.Combine(folder, "timeline.png"), Path.Combine(folder, "timeline.svg"));
        var messages = MessageDiagram.Draw(history, $"{summary.Title}: messages", Path.Combine(folder, "messages.png"), Path.Combine(folder, "messages.svg"));
        var index = Path.Combine(folder, "index.html");
        File.WriteAllText(index, Page(summary, timeline, messages), new UTF8Encoding(false));
        // Where things are in the pictures, for tools and tests that read them (lane rows of the timeline, columns of the diagram).
        var pictures = new JsonObject { ["timeline"] = Describe(timeline), ["messages"] = Describe(messages) };
        File.WriteAllText(Path.Combine(folder, "pictures.json"), pictures.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), new UTF8Encoding(false));
        return new ReportFiles(folder, index, historyPath, timeline, messages);
    }

    private static JsonObject Describe(Picture picture) => new()
    {
        ["png"] = Path.GetFileName(picture.Png),
        ["svg"] = Path.GetFileName(picture.Svg),
        ["width"] = picture.Width,
        ["height"] = picture.Height,
        ["lanes"] = new JsonArray(picture.Lanes.Select(l => (JsonNode)l).ToArray()),
        ["lane_pixels"] = new JsonArray(picture.LanePixels.Select(p => (JsonNode)p).ToArray()),
        ["capped"] = picture.Capped,
    };

    private static string Page(ReportSummary summary, Picture timeline, Picture messages)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var html = new StringBuilder();
        html.Append($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(summary.Title)}}</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            table { border-collapse: collapse; margin: 0.5em 0 1em; }
            td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
            .ok { color: #2E9E44; font-weight: bold; } .bad { color: #E0282E; font-weight: bold; }
            pre { background: #f5f5f5; padding: 0.5em; } img { max-width: 100%; border: 1px solid #ddd; }
            </style></head><body>
            <h1>{{E(summary.Title)}} <span class="{{(summary.Ok ? "ok" : "bad")}}">{{(summary.Ok ? "ok" : "NOT ok")}}</span></h1>

            """);
        foreach (var line in summary.Lines)
            html.Append($"<p>{E(line)}</p>\n");
        html.Append("<h2>Checks</h2>\n<table><tr><th>check</th><th>verdict</th><th>detail</th></tr>\n");
        foreach (var check in summary.Checks.Concat(summary.HistoryChecks))
        {
            html.Append($"<tr><td>{E(check.Name)}</td><td class=\"{(check.Passed ? "ok" : "bad")}\">{(check.Passed ? "passed" : "FAILED")}</td><td>{E(check.Detail)}");
            if (check.Evidence is { Count: > 0 } evidence)
                html.Append($"<pre>{E(string.Join("\n", evidence))}</pre>");
            html.Append("</td></tr>\n");
        }
        html.Append("</table>\n<h2>Timeline</h2>\n");
        html.Append($"<p><a href=\"timeline.svg\"><img src=\"timeline.png\" alt=\"timeline: one lane per process\" width=\"{timeline.Width}\"></a></p>\n");
        if (timeline.Capped is { } t)
            html.Append($"<p>{E(t)}</p>\n");
        html.Append("<h2>Messages</h2>\n");
        html.Append($"<p><a href=\"messages.svg\"><img src=\"messages.png\" alt=\"message diagram: lanes for the coordinator's primitives and each process\" width=\"{messages.Width}\"></a></p>\n");
        if (messages.Capped is { } m)
            html.Append($"<p>{E(m)}</p>\n");
        html.Append("<h2>Processes</h2>\n<table><tr>");
        foreach (var column in summary.Columns)
            html.Append($"<th>{E(column)}</th>");
        html.Append("</tr>\n");
        foreach (var row in summary.Rows)
            html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>\n");
        html.Append("</table>\n<p>The history of the run: <a href=\"history.jsonl\">history.jsonl</a> (JSON Lines, one event per line).</p>\n</body></html>\n");
        return html.ToString();
    }
}
