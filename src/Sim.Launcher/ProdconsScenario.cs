using System.Text.Json.Nodes;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record ProdconsOptions(
    int Producers, int Consumers, int Items, bool Joinable, int MaxSize, int ItemBytes, int WorkMs, int Batch,
    string? JsonPath, TimeSpan Timeout, IReadOnlyList<Fault> Faults, int LeaseMs = 0);

/// <summary>
/// The lesson's producer–consumer programs: P producer and C consumer processes around one queue actor.
/// Sentinel mode: after the producers end, the launcher puts one None per consumer. Joinable mode: producers
/// join the queue, consumers are daemons ended when the launcher is done. Every item is checked to have been
/// consumed exactly once. The scenario is an instance of the model (<see cref="BuiltInScenarios.Prodcons"/>);
/// only its table, lines and JSON are its own.
/// </summary>
public static class ProdconsScenario
{
    public const string QueueName = "q";

    public static async Task<int> RunAsync(ProdconsOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var mode = options.Joinable ? "joinable" : "sentinel";
        console.MarkupLineInterpolated(
            $"[bold]prodcons[/]: {options.Producers} producer(s), {options.Consumers} consumer(s), {options.Items} items of {options.ItemBytes} bytes, mode {mode}, maxsize {options.MaxSize}, work {options.WorkMs} ms/item");
        var scenario = BuiltInScenarios.Prodcons(options.Producers, options.Consumers, options.Items, options.Joinable, options.MaxSize,
            options.ItemBytes, options.WorkMs, options.Batch, options.Timeout, options.Faults.Select(f => f.ToModel()).ToList(), QueueName)
            .WithLease(QueueName, options.LeaseMs);
        return await ModelScenario.RunAsync(scenario, RoleLibrary.BuiltIn, console, _ => throw new InvalidOperationException("prodcons has no ticket file"),
            result => Present(options, mode, result, console), cancellationToken);
    }

    private static async Task<int> Present(ProdconsOptions options, string mode, ProcessScenarioResult result, IAnsiConsole console)
    {
        var (run, report, census, results, phases) = (result.Run, result.Report, result.Census, result.Results, result.Phases);
        var (ready, failure, wall) = (phases.Ready, phases.Failure, result.Wall);
        var ledger = result.Primitives.Ledger!;
        var status = await result.Primitives.Queue(QueueName).StatusAsync();
        var produced = result.Primitives.ProducedBy.Sum();
        var corrupt = results.Values.Sum(r => r.Figures.GetValueOrDefault("corrupt"));
        var crashed = report.Outcome.Participants.Where(p => p.Faulted).Select(p => p.Spec.Name).ToHashSet();
        var crashedHolders = ledger.DuplicateConsumers.Where(crashed.Contains).ToList();
        // As the model's exactly-once check: a duplicate is excused only as a redelivery from a consumer a fault ended; say whose.
        var redelivery = ledger.Duplicates <= status.Redelivered && crashedHolders.Count > 0;
        var duplicateCause = ledger.Duplicates == 0 ? null
            : redelivery ? $"redelivered after {string.Join(", ", crashedHolders)} died before marking them done"
            : "unexplained";
        var workSeconds = ledger.LastRecordUnixMs > 0
            ? Math.Max(0.001, (ledger.LastRecordUnixMs - phases.ReleasedAt.ToUnixTimeMilliseconds()) / 1000.0)
            : phases.Work.TotalSeconds;
        var throughput = ledger.Distinct / Math.Max(workSeconds, 0.001);
        var unexpectedExits = run.Processes.Where(p => report.UnexpectedExits.Any(u => u.Spec.Name == p.Name)).ToList();
        var nothingLost = ledger.Missing == 0 && corrupt == 0 && ledger.Unexpected == 0;
        var ok = result.Ok;

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "host", "role", "daemon", "items", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            var items = process.Role == "producer"
                ? results.TryGetValue(process.Name, out var r) ? r.Figures.GetValueOrDefault("produced").ToString() : "-"
                : ledger.PerConsumer.GetValueOrDefault(process.Name).ToString();
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", Markup.Escape(process.Host), process.Role, process.Daemon ? "yes" : "no", items,
                process.ExitCode == 0 || (process.Daemon && process.ExitCode == -15)
                    ? process.ExitCode?.ToString() ?? "-"
                    : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]",
                RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        var verdict = nothingLost && ledger.Duplicates == 0 ? "[green]every item consumed exactly once[/]"
            : nothingLost && redelivery ? "[yellow]no item lost; the duplicates are the crashed consumer's unfinished items, processed again[/]"
            : "[red]NOT exactly once[/]";
        var neverProduced = options.Items - produced;
        console.MarkupLine($"produced {produced}{(neverProduced > 0 ? $" ({neverProduced} planned items never produced)" : "")}, consumed {ledger.Distinct}, missing {ledger.Missing}, duplicates {ledger.Duplicates}{(duplicateCause is null ? "" : $" ({Markup.Escape(duplicateCause)})")}, corrupt {corrupt}: {verdict}");
        console.MarkupLine($"throughput {throughput:0} items/s over {workSeconds:0.000} s; all ready after {ready.TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s");
        foreach (var (consumer, count) in status.LeaseExpiredBy.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            console.MarkupLineInterpolated(
                $"[yellow]the lease of {count} item(s) held by {consumer} ran out[/] ({options.LeaseMs} ms without renewal): they went back to the queue for the others");
        var lost = status.LateTaskDones;
        if (lost > 0)
            console.MarkupLineInterpolated($"{lost} late task_done(s) for items whose lease had run out were refused: not recorded, not counted");
        RunReport.PrintEnd(console, census, failure, unexpectedExits);

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "prodcons",
                ["mode"] = mode,
                ["ok"] = ok,
                ["error"] = failure,
                ["items"] = new JsonObject
                {
                    ["planned"] = options.Items,
                    ["produced"] = produced,
                    ["consumed"] = ledger.Distinct,
                    ["consumed_total"] = ledger.Consumed,
                    ["missing"] = ledger.Missing,
                    ["duplicates"] = ledger.Duplicates,
                    ["unexpected"] = ledger.Unexpected,
                    ["duplicate_cause"] = duplicateCause,
                    ["corrupt"] = corrupt,
                    ["redelivered"] = status.Redelivered,
                    ["lease_expired"] = status.LeaseExpiredBy.Values.Sum(),
                    ["late_task_done_refused"] = lost,
                },
                ["lease_ms"] = options.LeaseMs,
                ["per_consumer"] = new JsonObject(ledger.PerConsumer.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["throughput_items_per_s"] = Math.Round(throughput, 1),
                ["timing"] = RunReport.Timing(phases, workSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
            ModelScenario.AddModelReport(json, report);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
