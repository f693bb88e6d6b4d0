using System.Text.Json.Nodes;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record TicketsOptions(
    int Buyers, int Tickets, bool UseLock, int DelayMs, string DbPath, string? JsonPath, TimeSpan Timeout,
    IReadOnlyList<Fault> Faults);

/// <summary>
/// The lesson's ticket grabbing: one buyer process per buyer, a real JSON ticket file, the lock manager.
/// Without the lock it oversells (counted and shown); with it, never, even when the holder is killed.
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
            MainLock = Buyer.LockName,
        };
        var store = run.Coordinator.StartTicketStore(file.Path);
        var parameters = new Dictionary<string, string>
        {
            ["delay-ms"] = options.DelayMs.ToString(),
            ["lock"] = options.UseLock ? "true" : "false",
            ["lock-timeout-ms"] = ((int)options.Timeout.TotalMilliseconds).ToString(),
            ["ready-timeout-ms"] = ((int)options.Timeout.TotalMilliseconds).ToString(),
        };
        for (var i = 1; i <= options.Buyers; i++)
            run.Add($"buyer-{i}", new Buyer().Name, parameters);

        var phases = await run.ExecuteAsync(options.Timeout, options.Faults,
            () => run.AwaitWorkDoneAsync(options.Buyers, options.Timeout, cancellationToken), cancellationToken);
        var (ready, failure) = (phases.Ready, phases.Failure);
        var wall = run.Elapsed;
        var census = run.Census();

        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        var writes = (await store.Ask<TicketWrites>(GetTicketWrites.Instance, TimeSpan.FromSeconds(10))).All;
        var remaining = file.Read().Count;
        var buyers = results.Values.Where(r => r.Figures.GetValueOrDefault("bought") == 1).Select(r => r.Name).ToHashSet();
        var sold = buyers.Count;
        // A buyer killed after its write was accepted bought a ticket it could not report: count it, once.
        var landedUnreported = writes.Select(w => w.Writer).Distinct().Count(w => !results.ContainsKey(w));
        var oversold = Math.Max(0, sold + landedUnreported - options.Tickets);
        var lostUpdates = sold + landedUnreported - (options.Tickets - remaining);
        var handoverMs = HandoverAfterKill(run.FaultOutcomes, results.Values);
        var unexpectedExits = run.UnexpectedExits();
        var consistent = oversold == 0 && lostUpdates == 0;
        // Without the lock the race is the lesson's point, not a failure of the run.
        var ok = failure is null && unexpectedExits.Count == 0 && census.Zombies.Count == 0 && census.Orphans.Count == 0
                 && (consistent || !options.UseLock);

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("name", "pid", "searched", "seen", "bought", "token", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-",
                Figure(r, "searched"), Figure(r, "seen"),
                r is null ? "-" : r.Figures.GetValueOrDefault("bought") == 1 ? "[green]yes[/]" : "no",
                r is null || r.Figures.GetValueOrDefault("token") == 0 ? "-" : r.Figures["token"].ToString(),
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]",
                RunReport.EndedSeconds(run, process));
        }
        console.Write(table);

        var verdict = consistent ? "[green]consistent[/]" : "[red]INCONSISTENT: the race the lock prevents[/]";
        var unreported = landedUnreported > 0 ? $" (+{landedUnreported} by killed buyers)" : "";
        console.MarkupLine(
            $"initial {options.Tickets}, sold {sold}{unreported}, remaining {remaining}, oversold {oversold}, lost updates {lostUpdates}: {verdict}");
        console.MarkupLine(
            $"all ready after {ready.TotalSeconds:0.000} s, work {phases.Work.TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s, peak RSS per buyer {run.MaxPeakRssMb?.ToString("0.0") ?? "?"} MiB (max)");
        if (handoverMs is { } ms)
            console.MarkupLine($"the lock passed to the next buyer {ms} ms after its holder was killed");
        RunReport.PrintEnd(console, census, failure, unexpectedExits);

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
                    ["landed_unreported"] = landedUnreported,
                    ["remaining"] = remaining,
                    ["oversold"] = oversold,
                    ["lost_updates"] = lostUpdates,
                },
                ["timing"] = RunReport.Timing(ready, phases.Work.TotalSeconds, wall),
                ["db"] = file.Path,
            };
            json["timing"]!["handover_after_kill_ms"] = handoverMs;
            RunReport.AddRunFacts(json, run, census, results, (r, entry) => entry["bought"] = r.Figures.GetValueOrDefault("bought") == 1);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }

    /// <summary>Time from the SIGKILL of a lock holder to the next grant of the lock, in ms.</summary>
    private static long? HandoverAfterKill(IEnumerable<FaultOutcome> faults, IEnumerable<ParticipantResult> results)
    {
        var kill = faults.FirstOrDefault(f => f.Fault is { Action: FaultAction.Kill, Target: Fault.Holder } && f.SignalledAt is not null);
        if (kill?.SignalledAt is not { } killedAt)
            return null;
        var killedMs = killedAt.ToUnixTimeMilliseconds();
        var next = results.Select(r => r.Figures.GetValueOrDefault("granted_at_ms")).Where(t => t >= killedMs).DefaultIfEmpty(0).Min();
        return next == 0 ? null : next - killedMs;
    }

    private static string Figure(ParticipantResult? result, string key) =>
        result is null ? "-" : result.Figures.GetValueOrDefault(key).ToString();
}
