using Sim.Core.History;
using Sim.Core.Scenarios;
using Sim.Report;
using Sim.Report.Checkers;
using Spectre.Console;

namespace Sim.Launcher.Reports;

/// <summary>
/// What every run of a model scenario does with its history (built-in and users' scenarios alike): join the coordinator's
/// log into a <see cref="History"/>, run the scenario's checkers over it, and after the run's own output, write the
/// history file (<c>--history</c>) and the report folder (<c>--report</c>, or a new folder under the user's sim folder).
/// </summary>
public static class RunRecording
{
    /// <summary>Runs whose default report folders are kept; older ones are removed.</summary>
    public const int KeptReports = 20;

    public static string? HistoryPath { get; set; }
    public static string? ReportFolder { get; set; }

    /// <summary>The run's history and the checkers' verdicts; null when the run recorded none.</summary>
    public static (History History, IReadOnlyList<HistoryVerdict> Verdicts)? Check(ScenarioRun run, Scenario scenario,
        IReadOnlyList<ParticipantSpec> specs, DateTimeOffset releasedAt)
    {
        if (!run.History.Enabled)
            return null;
        var origin = (releasedAt.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
        var history = History.Build(run.History.Snapshot(), specs.Select(s => s.Name).ToList(), origin, run.History.Dropped);
        return (history, HistoryCheckers.Check(scenario, history));
    }

    /// <summary>Prints the checkers' verdicts and writes the history file and the report; returns the report's folder.</summary>
    public static string? Finish(ProcessScenarioResult result, History? history, IAnsiConsole console)
    {
        if (history is null)
            return null;
        var report = result.Report;
        var expected = report.Outcome.Scenario.ExpectRace;
        console.MarkupLineInterpolated($"history: {history.Operations.Count} operations of {history.Processes.Count} processes{(history.Dropped > 0 ? $" ({history.Dropped} events not kept)" : "")}");
        foreach (var check in report.History)
        {
            if (check.Passed)
                console.MarkupLineInterpolated($"[green]passed[/] {check.Name} ({check.Detail})");
            else
            {
                if (expected)
                    console.MarkupLineInterpolated($"[yellow]found[/] {check.Name}: {check.Detail} (the race this run shows)");
                else
                    console.MarkupLineInterpolated($"[red]FAILED[/] {check.Name}: {check.Detail}");
                foreach (var line in check.Evidence ?? [])
                    console.MarkupLineInterpolated($"[grey]    {line}[/]");
            }
        }
        if (HistoryPath is { } path)
        {
            HistoryFile.Write(history, path);
            console.MarkupLineInterpolated($"history written to {path}");
        }
        var folder = ReportFolder ?? DefaultFolder(report.Outcome.Scenario.Name);
        try
        {
            var files = ReportWriter.Write(folder, history, Summary(result));
            console.MarkupLineInterpolated($"report: {files.Index}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TypeInitializationException or DllNotFoundException)
        {
            console.MarkupLineInterpolated($"[yellow]report not written to {folder}: {e.Message}[/]");
        }
        return folder;
    }

    private static ReportSummary Summary(ProcessScenarioResult result)
    {
        var (run, report) = (result.Run, result.Report);
        var scenario = report.Outcome.Scenario;
        var lines = new List<string>();
        if (report.Figures.Count > 0)
            lines.Add(string.Join(", ", report.Figures.Select(f => $"{f.Key} {f.Value?.ToString() ?? "undefined"}")));
        lines.Add($"all ready after {result.Phases.Ready.TotalSeconds:0.000} s, work {result.Phases.Work.TotalSeconds:0.000} s, wall {result.Wall.TotalSeconds:0.000} s");
        if (result.Phases.Failure is { } failure)
            lines.Add($"failed: {failure}");
        foreach (var fault in report.Outcome.Faults)
            lines.Add($"{fault.Fault.Action.ToString().ToLowerInvariant()} {fault.Name ?? fault.Fault.Target} at {fault.AtSeconds?.ToString("0.000") ?? "-"} s{(fault.Note is null ? "" : $" ({fault.Note})")}");
        if (scenario.ExpectRace)
            lines.Add("This run is the lesson's race (no lock): the history checkers show where it happened; they do not fail the run.");
        var columns = new List<string> { "name", "pid", "host", "role" };
        columns.AddRange(scenario.Columns);
        columns.Add("exit code");
        var rows = run.Processes.Select(p =>
        {
            result.Results.TryGetValue(p.Name, out var r);
            var row = new List<string> { p.Name, p.Pid?.ToString() ?? "-", p.Host, p.Role };
            row.AddRange(scenario.Columns.Select(c => r is not null && r.Figures.TryGetValue(c, out var v) ? v.ToString() : "-"));
            row.Add(p.ExitCode?.ToString() ?? "-");
            return (IReadOnlyList<string>)row;
        }).ToList();
        var title = scenario.Description is { } about ? $"sim {scenario.Name} ({about})" : $"sim {scenario.Name}";
        return new ReportSummary(title, result.Ok, lines, columns, rows, report.Checks, report.History);
    }

    /// <summary>A new folder for this run's report under the user's sim folder; only the newest <see cref="KeptReports"/> are kept.</summary>
    private static string DefaultFolder(string scenario)
    {
        var root = Path.Combine(UserFolder.Ensure(), "reports");
        Directory.CreateDirectory(root);
        try
        {
            foreach (var old in new DirectoryInfo(root).GetDirectories().OrderByDescending(d => d.CreationTimeUtc).Skip(KeptReports - 1))
                old.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another run may be pruning too: keeping a few more is harmless.
        }
        return Path.Combine(root, $"{scenario}-{DateTime.Now:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
    }
}
