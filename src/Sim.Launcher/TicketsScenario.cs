using System.Text.Json.Nodes;
using Sim.Core;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record TicketsOptions(
    int Buyers, int Tickets, bool UseLock, int DelayMs, string DbPath, string? JsonPath, TimeSpan Timeout);

/// <summary>
/// The lesson's ticket grabbing: one buyer process per buyer, a real JSON ticket file, the lock manager.
/// Without the lock it oversells (counted and shown); with it, never.
/// </summary>
public static class TicketsScenario
{
    public static async Task<int> RunAsync(TicketsOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var file = TicketFile.Create(options.DbPath, options.Tickets);
        var node = NodeBinary.Locate();
        var mode = options.UseLock ? "with the lock" : "WITHOUT the lock";
        console.MarkupLineInterpolated($"[bold]tickets[/]: {options.Buyers} buyers, {options.Tickets} tickets, {mode}, delay {options.DelayMs} ms, db {file.Path}");

        await using var run = new ScenarioRun(node, line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
        };
        run.Coordinator.StartTicketStore(file.Path);
        var parameters = new Dictionary<string, string>
        {
            ["delay-ms"] = options.DelayMs.ToString(),
            ["lock"] = options.UseLock ? "true" : "false",
            ["lock-timeout-ms"] = ((int)options.Timeout.TotalMilliseconds).ToString(),
            ["ready-timeout-ms"] = ((int)options.Timeout.TotalMilliseconds).ToString(),
        };
        for (var i = 1; i <= options.Buyers; i++)
            run.Add($"buyer-{i}", new Buyer().Name, parameters);

        string? failure = null;
        TimeSpan ready = default, released = default, done = default;
        try
        {
            run.StartAll();
            ready = await run.AwaitAllReadyAsync(options.Timeout, cancellationToken);
            released = await run.ReleaseAsync();
            done = await run.AwaitWorkDoneAsync(options.Buyers, options.Timeout, cancellationToken);
            await run.AwaitAllEndedAsync(TimeSpan.FromSeconds(15));
        }
        catch (RunFailedException e)
        {
            failure = e.Message;
            await run.KillAllAsync();
        }
        var wall = run.Elapsed;

        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        var remaining = file.Read().Count;
        var sold = results.Values.Count(r => r.Figures.GetValueOrDefault("bought") == 1);
        var oversold = Math.Max(0, sold - options.Tickets);
        var lostUpdates = sold - (options.Tickets - remaining);
        var allExitedOk = run.Processes.All(p => p.ExitCode == 0);
        var consistent = oversold == 0 && lostUpdates == 0;
        // Without the lock the race is the lesson's point, not a failure of the run.
        var ok = failure is null && allExitedOk && results.Count == options.Buyers && (consistent || !options.UseLock);

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("name", "pid", "searched", "seen", "bought", "token", "exit code");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-",
                Figure(r, "searched"), Figure(r, "seen"),
                r is null ? "-" : r.Figures.GetValueOrDefault("bought") == 1 ? "[green]yes[/]" : "no",
                r is null || r.Figures.GetValueOrDefault("token") == 0 ? "-" : r.Figures["token"].ToString(),
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]");
        }
        console.Write(table);

        var verdict = consistent ? "[green]consistent[/]" : "[red]INCONSISTENT: the race the lock prevents[/]";
        console.MarkupLine(
            $"initial {options.Tickets}, sold {sold}, remaining {remaining}, oversold {oversold}, lost updates {lostUpdates}: {verdict}");
        console.MarkupLine(
            $"all ready after {ready.TotalSeconds:0.000} s, work {(done - released).TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s, peak RSS per buyer {run.MaxPeakRssMb?.ToString("0.0") ?? "?"} MiB (max)");
        if (failure is not null)
            console.MarkupLineInterpolated($"[red]run failed: {failure}[/]");

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "tickets",
                ["ok"] = ok,
                ["lock"] = options.UseLock,
                ["error"] = failure,
                ["tickets"] = new JsonObject
                {
                    ["initial"] = options.Tickets,
                    ["sold"] = sold,
                    ["remaining"] = remaining,
                    ["oversold"] = oversold,
                    ["lost_updates"] = lostUpdates,
                },
                ["timing"] = new JsonObject
                {
                    ["ready_s"] = Math.Round(ready.TotalSeconds, 4),
                    ["work_s"] = Math.Round((done - released).TotalSeconds, 4),
                    ["wall_s"] = Math.Round(wall.TotalSeconds, 4),
                },
                ["max_peak_rss_mb"] = run.MaxPeakRssMb,
                ["db"] = file.Path,
                ["processes"] = RunReport.Processes(run, (process, node) =>
                {
                    if (!results.TryGetValue(process.Name, out var r))
                        return;
                    foreach (var (key, value) in r.Figures)
                        node[key] = value;
                    node["bought"] = r.Figures.GetValueOrDefault("bought") == 1;
                }),
            };
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }

    private static string Figure(ParticipantResult? result, string key) =>
        result is null ? "-" : result.Figures.GetValueOrDefault(key).ToString();
}
