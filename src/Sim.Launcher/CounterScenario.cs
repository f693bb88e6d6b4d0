using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record CounterOptions(int Processes, int Increments, string Mode, int DelayMs, string? JsonPath, TimeSpan Timeout,
    IReadOnlyList<Fault> Faults, int LeaseMs = 0);

/// <summary>
/// The lesson's shared data without automatic locking: N processes each add 1 to a shared value K times by
/// read-then-write. Without the lock updates are lost (counted); with it, or with the atomic increment, the
/// result is exact. An instance of the model (<see cref="BuiltInScenarios.Counter"/>); only its table, lines and JSON
/// are its own.
/// </summary>
public static class CounterScenario
{
    public static async Task<int> RunAsync(CounterOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]counter[/]: {options.Processes} processes x {options.Increments} increments, mode {options.Mode}, delay {options.DelayMs} ms");
        var scenario = BuiltInScenarios.Counter(options.Processes, options.Increments, options.Mode, options.DelayMs, options.Timeout,
            options.Faults.Select(f => f.ToModel()).ToList()).WithLease(Sim.Core.Roles.Counter.LockName, options.LeaseMs);
        return await ModelScenario.RunAsync(scenario, RoleLibrary.BuiltIn, console, _ => throw new InvalidOperationException("counter has no ticket file"),
            result => PresentAsync(options, result, console), cancellationToken);
    }

    private static async Task<int> PresentAsync(CounterOptions options, ProcessScenarioResult result, IAnsiConsole console)
    {
        var (run, report, census, results, phases, wall) = (result.Run, result.Report, result.Census, result.Results, result.Phases, result.Wall);
        long Value(string name) => report.Figure(name) ?? 0;
        // Each increment is one write of value + 1; the object counts the writes it accepted (per process), so an ended
        // process's unfinished share is not a lost update, and a write refused after its process left is no update.
        var (planned, expected, final, lost) = (Value("planned"), Value("expected"), Value("final"), Value("lost_updates"));
        var stats = await result.Primitives.Value(Counter.ObjectName).StatsAsync();
        var unexpectedExits = run.Processes.Where(p => report.UnexpectedExits.Any(u => u.Spec.Name == p.Name)).ToList();
        // Without the lock the loss is the lesson: the model has no check for it then.
        var ok = result.Ok;

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "host", "increments", "work (ms)", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", Markup.Escape(process.Host),
                r?.Figures.GetValueOrDefault("increments").ToString() ?? "-", r?.Figures.GetValueOrDefault("work_ms").ToString() ?? "-",
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]", RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        var verdict = Verdict(options.Mode, lost);
        var unfinished = planned > expected ? $" ({planned - expected} increments of ended processes never done)" : "";
        console.MarkupLine($"expected {expected}{unfinished}, final {final}, lost updates {lost}: {verdict}");
        console.MarkupLine(phases.Summary(wall));
        RunReport.PrintEnd(console, census, phases.Failure, unexpectedExits);

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "counter",
                ["ok"] = ok,
                ["mode"] = options.Mode,
                ["error"] = phases.Failure,
                ["planned"] = planned,
                ["expected"] = expected,
                ["final"] = final,
                ["lost_updates"] = lost,
                ["writes_by"] = new JsonObject(stats.WritesBy.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["stale_writes_refused"] = stats.StaleRefused,
                ["timing"] = RunReport.Timing(phases, phases.Work.TotalSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
            ModelScenario.AddModelReport(json, report);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }

    /// <summary>What happened, in words: without the lock a loss is the lesson; with it (or atomically) any difference is a bug.</summary>
    internal static string Verdict(string mode, long lost) => (mode, lost) switch
    {
        (_, 0) => "[green]exact[/]",
        ("nolock", > 0) => "[red]LOST UPDATES: read-then-write without the lock[/]",
        ("lock", > 0) => "[red]LOST UPDATES with the lock held — a bug[/]",
        (_, > 0) => $"[red]LOST UPDATES with {mode} increments — a bug[/]",
        (_, < 0) => $"[red]MORE in the value than writes accepted ({-lost}) — a bug[/]",
    };
}
