using System.Text.Json.Nodes;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record TicketsOptions(
    int Buyers, int Tickets, bool UseLock, int DelayMs, string DbPath, string? JsonPath, TimeSpan Timeout,
    IReadOnlyList<Fault> Faults, int LeaseMs = 0);

/// <summary>
/// The lesson's ticket grabbing: one buyer process per buyer, a real JSON ticket file, the lock manager.
/// Without the lock it oversells (counted and shown); with it, never, even when the holder is killed.
/// </summary>
public static class TicketsScenario
{
    public static async Task<int> RunAsync(TicketsOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var mode = options.UseLock ? "with the lock" : "WITHOUT the lock";
        console.MarkupLineInterpolated($"[bold]tickets[/]: {options.Buyers} buyers, {options.Tickets} tickets, {mode}, delay {options.DelayMs} ms, db {Path.GetFullPath(options.DbPath)}");
        // The lesson's scenario is an instance of the model; only its table and JSON are its own.
        var faults = options.Faults.Select(f => f.ToModel()).ToList();
        var scenario = BuiltInScenarios.Tickets(options.Buyers, options.Tickets, options.UseLock, options.DelayMs, options.Timeout, faults)
            .WithLease(Buyer.LockName, options.LeaseMs);
        return await ModelScenario.RunAsync(scenario, RoleLibrary.BuiltIn, console, _ => options.DbPath,
            result => Task.FromResult(Present(options, result, console)), cancellationToken);
    }

    private static int Present(TicketsOptions options, ProcessScenarioResult result, IAnsiConsole console)
    {
        var (run, report, census, results) = (result.Run, result.Report, result.Census, result.Results);
        var (ready, failure, wall) = (result.Phases.Ready, result.Phases.Failure, result.Wall);
        var file = result.Primitives.TicketFile!;
        long Value(string name) => report.Figure(name) ?? 0;
        var (sold, landedUnreported, remaining) = (Value("sold"), Value("landed_unreported"), Value("remaining"));
        var (oversold, lostUpdates, refused) = (Value("oversold"), Value("lost_updates"), Value("refused_writes"));
        var handoverMs = HandoverAfterKill(run.FaultOutcomes, results.Values);
        var unexpectedExits = run.UnexpectedExits();
        var consistent = oversold == 0 && lostUpdates == 0;
        // Without the lock the race is the lesson's point, not a failure of the run: the model has no check for it then.
        var ok = result.Ok;

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("name", "pid", "host", "searched", "seen", "bought", "token", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", Markup.Escape(process.Host),
                Figure(r, "searched"), Figure(r, "seen"),
                r is null ? "-" : r.Figures.GetValueOrDefault("bought") == 1 ? "[green]yes[/]"
                    : r.Figures.GetValueOrDefault("rejected") == 1 ? "[yellow]refused[/]" : "no",
                r is null || r.Figures.GetValueOrDefault("token") == 0 ? "-" : r.Figures["token"].ToString(),
                RunReport.ExitCell(process, process.ExitCode == 0),
                RunReport.EndedSeconds(run, process));
        }
        console.Write(table);

        var verdict = consistent ? "[green]consistent[/]" : "[red]INCONSISTENT: the race the lock prevents[/]";
        var unreported = landedUnreported > 0 ? $" (+{landedUnreported} by killed buyers)" : "";
        var refusedText = refused > 0 ? $", stale writes refused {refused}" : "";
        console.MarkupLine(
            $"initial {options.Tickets}, sold {sold}{unreported}, remaining {remaining}, oversold {oversold}, lost updates {lostUpdates}{refusedText}: {verdict}");
        console.MarkupLine(
            $"{result.Phases.Summary(wall)}, peak RSS per buyer {run.MaxPeakRssMb?.ToString("0.0") ?? "?"} MiB (max)");
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
                    ["refused_writes"] = refused,
                },
                ["timing"] = RunReport.Timing(result.Phases, result.Phases.Work.TotalSeconds, wall),
                ["db"] = file.Path,
            };
            json["timing"]!["handover_after_kill_ms"] = handoverMs;
            RunReport.AddRunFacts(json, run, census, results, (r, entry) => entry["bought"] = r.Figures.GetValueOrDefault("bought") == 1);
            ModelScenario.AddModelReport(json, report);
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
