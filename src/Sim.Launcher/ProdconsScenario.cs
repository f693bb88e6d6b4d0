using System.Text.Json.Nodes;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record ProdconsOptions(
    int Producers, int Consumers, int Items, bool Joinable, int MaxSize, int ItemBytes, int WorkMs, int Batch,
    string? JsonPath, TimeSpan Timeout, IReadOnlyList<Fault> Faults);

/// <summary>
/// The lesson's producer–consumer programs: P producer and C consumer processes around one queue actor.
/// Sentinel mode: after the producers end, the launcher puts one None per consumer. Joinable mode: producers
/// join the queue, consumers are daemons ended when the launcher is done. Every item is checked to have been
/// consumed exactly once.
/// </summary>
public static class ProdconsScenario
{
    public const string QueueName = "q";

    public static async Task<int> RunAsync(ProdconsOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var mode = options.Joinable ? "joinable" : "sentinel";
        console.MarkupLineInterpolated(
            $"[bold]prodcons[/]: {options.Producers} producer(s), {options.Consumers} consumer(s), {options.Items} items of {options.ItemBytes} bytes, mode {mode}, maxsize {options.MaxSize}, work {options.WorkMs} ms/item");
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
        };
        var queue = options.Joinable
            ? await SimJoinableQueue.DeclareAsync(run.Coordinator.Queues, QueueName, options.MaxSize, run.Coordinator.Link, ActorRefs.Nobody)
            : await SimQueue.DeclareAsync(run.Coordinator.Queues, QueueName, options.MaxSize, run.Coordinator.Link, ActorRefs.Nobody);

        var common = new Dictionary<string, string>
        {
            ["queue"] = QueueName,
            ["mode"] = mode,
            ["maxsize"] = options.MaxSize.ToString(),
            ["batch"] = options.Batch.ToString(),
            ["timeout-ms"] = ((long)options.Timeout.TotalMilliseconds).ToString(),
        };
        var produced = new List<long>();
        var producers = new List<SimProcess>();
        for (var p = 1; p <= options.Producers; p++)
        {
            var count = options.Items / options.Producers + (p <= options.Items % options.Producers ? 1 : 0);
            produced.Add(count);
            producers.Add(run.Add($"producer-{p}", new Producer().Name, new Dictionary<string, string>(common)
            {
                ["producer-index"] = p.ToString(),
                ["count"] = count.ToString(),
                ["item-bytes"] = options.ItemBytes.ToString(),
            }));
        }
        var consumers = new List<SimProcess>();
        for (var c = 1; c <= options.Consumers; c++)
        {
            consumers.Add(run.Add($"consumer-{c}", new Consumer().Name, new Dictionary<string, string>(common)
            {
                ["work-ms"] = options.WorkMs.ToString(),
            }, daemon: options.Joinable));
        }

        var phases = await run.ExecuteAsync(options.Timeout, options.Faults, async () =>
        {
            // p.join() for every producer.
            if (!(await Task.WhenAll(producers.Select(p => p.JoinAsync(options.Timeout, cancellationToken)))).All(joined => joined))
                throw new RunFailedException($"the producers did not finish within {options.Timeout.TotalSeconds:0.#} s");
            if (options.Joinable)
            {
                // The producers returned from q.join(): every item is done. The main program ends, and its
                // daemon consumers with it.
                var done = run.Elapsed;
                foreach (var consumer in consumers)
                    consumer.Terminate();
                return done;
            }
            // One sentinel per consumer, after all the real items.
            await queue.PutManyAsync(Enumerable.Repeat(QueueItem.None, options.Consumers).ToList(), options.Timeout);
            if (!(await Task.WhenAll(consumers.Select(c => c.JoinAsync(options.Timeout, cancellationToken)))).All(joined => joined))
                throw new RunFailedException($"the consumers did not finish within {options.Timeout.TotalSeconds:0.#} s");
            return run.Elapsed;
        }, cancellationToken);
        var (ready, failure) = (phases.Ready, phases.Failure);
        var wall = run.Elapsed;
        var census = run.Census();

        // What each producer really put into the queue (a killed producer put less than planned): a producer
        // puts its items in sequence, so its first n ids are exactly what exists.
        var status = await queue.StatusAsync();
        var planned = produced.Sum();
        produced = producers.Select(p => status.PutBy.GetValueOrDefault(p.Name)).ToList();
        var ledger = await run.Coordinator.Ledger.Ask<LedgerReport>(new CheckLedger(produced), TimeSpan.FromSeconds(60));
        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        var corrupt = results.Values.Sum(r => r.Figures.GetValueOrDefault("corrupt"));
        var crashed = run.Processes.Where(p => run.WasFaulted(p)).Select(p => p.Name).ToHashSet();
        var crashedHolders = ledger.DuplicateConsumers.Where(crashed.Contains).ToList();
        var duplicateCause = ledger.Duplicates == 0 ? null
            : crashedHolders.Count > 0 && status.Redelivered > 0
                ? $"redelivered after {string.Join(", ", crashedHolders)} died before marking them done"
                : "unexplained";
        var workSeconds = ledger.LastRecordUnixMs > 0
            ? Math.Max(0.001, (ledger.LastRecordUnixMs - phases.ReleasedAt.ToUnixTimeMilliseconds()) / 1000.0)
            : phases.Work.TotalSeconds;
        var throughput = ledger.Distinct / Math.Max(workSeconds, 0.001);
        // Daemon consumers are ended on purpose in joinable mode; faulted processes are expected to fail.
        var unexpectedExits = run.UnexpectedExits(p => options.Joinable && consumers.Contains(p) && p.ExitCode == -15);
        var nothingLost = ledger.Missing == 0 && corrupt == 0 && ledger.Unexpected == 0;
        var exactlyOnce = nothingLost && ledger.Duplicates == 0;
        // A crashed consumer's unfinished items are processed again: at-least-once for those, and said so.
        var explained = nothingLost && (ledger.Duplicates == 0 || duplicateCause != "unexplained");
        var ok = failure is null && unexpectedExits.Count == 0 && explained && census.Zombies.Count == 0 && census.Orphans.Count == 0;

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "role", "daemon", "items", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            var items = process.Role == "producer"
                ? results.TryGetValue(process.Name, out var r) ? r.Figures.GetValueOrDefault("produced").ToString() : "-"
                : ledger.PerConsumer.GetValueOrDefault(process.Name).ToString();
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", process.Role, process.Daemon ? "yes" : "no", items,
                process.ExitCode == 0 || (options.Joinable && consumers.Contains(process) && process.ExitCode == -15)
                    ? process.ExitCode?.ToString() ?? "-"
                    : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]",
                RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        var verdict = exactlyOnce ? "[green]every item consumed exactly once[/]"
            : explained ? "[yellow]no item lost; the duplicates are the crashed consumer's unfinished items, processed again[/]"
            : "[red]NOT exactly once[/]";
        var neverProduced = planned - produced.Sum();
        console.MarkupLine($"produced {produced.Sum()}{(neverProduced > 0 ? $" ({neverProduced} planned items never produced)" : "")}, consumed {ledger.Distinct}, missing {ledger.Missing}, duplicates {ledger.Duplicates}{(duplicateCause is null ? "" : $" ({Markup.Escape(duplicateCause)})")}, corrupt {corrupt}: {verdict}");
        console.MarkupLine($"throughput {throughput:0} items/s over {workSeconds:0.000} s; all ready after {ready.TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s");
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
                    ["planned"] = planned,
                    ["produced"] = produced.Sum(),
                    ["consumed"] = ledger.Distinct,
                    ["consumed_total"] = ledger.Consumed,
                    ["missing"] = ledger.Missing,
                    ["duplicates"] = ledger.Duplicates,
                    ["unexpected"] = ledger.Unexpected,
                    ["duplicate_cause"] = duplicateCause,
                    ["corrupt"] = corrupt,
                    ["redelivered"] = status.Redelivered,
                },
                ["per_consumer"] = new JsonObject(ledger.PerConsumer.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["throughput_items_per_s"] = Math.Round(throughput, 1),
                ["timing"] = RunReport.Timing(ready, workSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
