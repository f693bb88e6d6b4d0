using System.Globalization;
using System.Text.Json.Nodes;
using Sim.Report.Sweep;
using Spectre.Console;

namespace Sim.Launcher.Sweep;

/// <summary>What the sweep's report needs besides its runs.</summary>
public sealed record SweepReportInput(
    SweepManifest Manifest, SweepTarget Target, Func<string, bool>? PythonKeeps, JsonObject Machine, string StartMethods, int Planned, bool Interrupted);

/// <summary>
/// The files a sweep writes from its runs, after its last run and when it is interrupted: summary.csv, a chart per headline
/// figure (PNG and SVG), report.md and index.html. They are written again from all of runs.csv each time.
/// </summary>
public static class SweepOutputs
{
    public static void Write(string folder, SweepRuns runs, SweepReportInput input, IAnsiConsole console)
    {
        var manifest = input.Manifest;
        var grid = SweepGrid.Points(manifest.Axes);
        Func<SweepPoint, SweepPoint>? pythonPointOf = input.PythonKeeps is { } keeps ? p => p.Keep(keeps) : null;
        var summary = SweepSummary.Of(runs.Rows, runs.Figures, grid, pythonPointOf);
        SweepSummary.Write(Path.Combine(folder, SweepSummary.FileName), manifest.Keys, summary);
        var sections = new List<ReportSection>();
        foreach (var figure in input.Target.Headlines(runs.Figures).Where(f => summary.Any(r => r.Figure == f && r.Sim is not null)))
        {
            var rows = summary.Where(r => r.Figure == figure).ToList();
            string? png = null, svg = null;
            try
            {
                SweepChart.Draw(Chart(figure, rows, input), Path.Combine(folder, $"{figure}.png"), Path.Combine(folder, $"{figure}.svg"));
                (png, svg) = ($"{figure}.png", $"{figure}.svg");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or TypeInitializationException or DllNotFoundException)
            {
                console.MarkupLineInterpolated($"[yellow]chart of {figure} not drawn: {e.Message}[/]");
            }
            sections.Add(new ReportSection($"{figure}: {SweepTarget.Describe(figure)}", png, svg, Table(rows, manifest.Keys, pythonPointOf is not null)));
        }
        SweepReportWriter.Write(folder, new SweepReportContent($"Sweep of sim {input.Target.Name}: {string.Join(" × ", manifest.Keys)}", manifest.Command,
            Lines(runs, input, grid.Count), sections,
            [
                (SweepRuns.FileName, "one row per run: the varied keys, series (sim or python), run, ok, exit code, time, error, every figure"),
                (SweepSummary.FileName, "per point and figure: median, min, max and count of the runs that went well, and Python's"),
                (SweepManifest.FileName, "what is swept: running the same command into this folder resumes it"),
                ("runs/", "each run's JSON and its output"),
            ]));
        console.MarkupLineInterpolated(
            $"{runs.Rows.Count} run(s) in {Path.Combine(folder, SweepRuns.FileName)}; summary.csv, {sections.Count(s => s.Png is not null)} chart(s), report.md and index.html in {folder}");
    }

    private static Chart Chart(string figure, IReadOnlyList<SummaryRow> rows, SweepReportInput input)
    {
        var axes = input.Manifest.Axes;
        var x = axes.FirstOrDefault(a => a.Numeric) ?? axes[0];
        var others = axes.Where(a => a.Key != x.Key).Select(a => a.Key).ToList();
        double X(SweepPoint point) => x.Numeric
            ? double.Parse(point[x.Key]!, NumberStyles.Float, CultureInfo.InvariantCulture)
            : x.Values.ToList().IndexOf(point[x.Key]!);
        string Others(SweepPoint point) => string.Join(" ", others.Where(k => point[k] is not null).Select(k => $"{k}={point[k]}"));
        var series = rows.Where(r => r.Sim is not null).GroupBy(r => Others(r.Point))
            .Select(g => new ChartSeries($"sim {g.Key}".Trim(), g.Select(r => Point(X(r.Point), r.Sim!)).ToList())).ToList();
        if (input.PythonKeeps is { } keeps && keeps(x.Key))
        {
            series.AddRange(rows.Where(r => r.Python is not null).DistinctBy(r => r.Point.Keep(keeps)).GroupBy(r => Others(r.Point.Keep(keeps)))
                .Select(g => new ChartSeries($"python (spawn) {g.Key}".Trim(), g.Select(r => Point(X(r.Point), r.Python!)).ToList(), Reference: true)));
        }
        return new Chart($"sim {input.Target.Name}: {SweepTarget.Describe(figure)}", x.Key, SweepTarget.Describe(figure),
            x.Numeric ? null : x.Values, series);
    }

    private static ChartPoint Point(double x, FigureStats stats) => new(x, stats.Median, stats.Min, stats.Max, stats.Count);

    private static ReportTable Table(IReadOnlyList<SummaryRow> rows, IReadOnlyList<string> keys, bool python)
    {
        List<string> columns = [.. keys, "sim median", "sim min–max", "runs ok"];
        if (python)
            columns.AddRange(["python median", "python min–max", "sim / python"]);
        var cells = rows.Select(r =>
        {
            List<string> row = [.. r.Point.Values.Select(v => v ?? "-"), Fmt(r.Sim?.Median), Range(r.Sim), $"{r.Sim?.Count ?? 0}/{(r.Sim?.Count ?? 0) + r.Failed}"];
            if (python)
                row.AddRange([Fmt(r.Python?.Median), Range(r.Python), r.Sim is { } s && r.Python is { Median: > 0 } p ? $"{s.Median / p.Median:0.00}x" : "-"]);
            return (IReadOnlyList<string>)row;
        }).ToList();
        return new ReportTable(columns, cells);
    }

    private static IReadOnlyList<string> Lines(SweepRuns runs, SweepReportInput input, int points)
    {
        var machine = input.Machine;
        var sim = runs.Rows.Where(r => r.Series == SweepPlan.Sim).ToList();
        var python = runs.Rows.Where(r => r.Series == SweepPlan.Python).ToList();
        var lines = new List<string>
        {
            $"{points} point(s), {input.Manifest.Runs} run(s) each, in interleaved order (run 1 of every point, then run 2, ...), so that a noisy machine's drift spreads over all points.",
            $"Recorded: {sim.Count} Sim run(s) ({sim.Count(r => !r.Ok)} failed){(input.PythonKeeps is null ? "" : $", {python.Count} Python run(s) ({python.Count(r => !r.Ok)} failed)")}.",
        };
        var missing = input.Planned - runs.Rows.Count;
        if (input.Interrupted || missing > 0)
            lines.Add($"Not done yet: {Math.Max(0, missing)} run(s){(input.Interrupted ? " (the sweep was interrupted)" : "")}; running the same command again resumes the sweep.");
        lines.Add(input.StartMethods);
        if (input.PythonKeeps is not null && input.Target.Reference is { } reference)
            lines.Add($"Python: bench/python/{reference.Script} (multiprocessing, spawn) with the same parameters, right after Sim's run at each point; one Python run stands for the points that differ only in keys it has no counterpart of.");
        lines.Add("Each chart: the median of the runs at each point, with a bar from the smallest to the largest run.");
        lines.Add($"Machine: {machine["cores"]} cores, {machine["cpu"]}, {machine["memory_gb"]} GB, {machine["os"]}; .NET {machine["dotnet"]}, {machine["build"]} build{(machine["python"] is { } py ? $"; {py}" : "")}. Written {DateTime.Now:yyyy-MM-dd HH:mm}.");
        return lines;
    }

    private static string Range(FigureStats? stats) => stats is null ? "-" : $"{Fmt(stats.Min)}–{Fmt(stats.Max)}";

    private static string Fmt(double? value) => value switch
    {
        null => "-",
        >= 100 or <= -100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0.0##", CultureInfo.InvariantCulture),
    };
}
