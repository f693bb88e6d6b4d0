using System.Text.Json.Nodes;
using Sim.Core;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record CounterOptions(int Processes, int Increments, string Mode, int DelayMs, string? JsonPath, TimeSpan Timeout,
    IReadOnlyList<Fault> Faults);

/// <summary>
/// The lesson's shared data without automatic locking: N processes each add 1 to a shared value K times by
/// read-then-write. Without the lock updates are lost (counted); with it, or with the atomic increment, the
/// result is exact.
/// </summary>
public static class CounterScenario
{
    public static async Task<int> RunAsync(CounterOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]counter[/]: {options.Processes} processes x {options.Increments} increments, mode {options.Mode}, delay {options.DelayMs} ms");
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
            MainLock = Counter.LockName,
        };
        var counter = await SharedObjectClient.DeclareAsync(run.Coordinator.SharedData, run.Coordinator.Link, Counter.ObjectName, SharedKind.Value,
            SharedScalar.Of(0));
        var parameters = new Dictionary<string, string>
        {
            ["increments"] = options.Increments.ToString(),
            ["mode"] = options.Mode,
            ["delay-ms"] = options.DelayMs.ToString(),
            ["timeout-ms"] = ((long)options.Timeout.TotalMilliseconds).ToString(),
        };
        for (var i = 1; i <= options.Processes; i++)
            run.Add($"counter-{i}", new Counter().Name, parameters);

        var phases = await run.ExecuteAsync(options.Timeout, options.Faults,
            () => run.AwaitWorkDoneAsync(options.Processes, options.Timeout, cancellationToken), cancellationToken);
        var wall = run.Elapsed;
        var census = run.Census();
        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        var final = (await counter.GetAsync()).AsInt();
        // Each increment is one write of value + 1; the object counts the writes it accepted (per process), so an ended
        // process's unfinished share is not a lost update, and a write refused after its process left is no update.
        var stats = await counter.StatsAsync();
        var completed = stats.Writes;
        var planned = (long)options.Processes * options.Increments;
        var expected = completed;
        var lost = expected - final;
        var unexpectedExits = run.UnexpectedExits();
        var exact = lost == 0;
        var ok = phases.Failure is null && unexpectedExits.Count == 0 && census.Zombies.Count == 0 && census.Orphans.Count == 0
                 && (exact || options.Mode == "nolock");

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "increments", "work (ms)", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-",
                r?.Figures.GetValueOrDefault("increments").ToString() ?? "-", r?.Figures.GetValueOrDefault("work_ms").ToString() ?? "-",
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]", RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        var verdict = Verdict(options.Mode, lost);
        var unfinished = planned > completed ? $" ({planned - completed} increments of ended processes never done)" : "";
        console.MarkupLine($"expected {expected}{unfinished}, final {final}, lost updates {lost}: {verdict}");
        console.MarkupLine($"all ready after {phases.Ready.TotalSeconds:0.000} s, work {phases.Work.TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s");
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
                ["timing"] = RunReport.Timing(phases.Ready, phases.Work.TotalSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
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
