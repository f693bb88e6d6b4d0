using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record LockOptions(int Processes, int Acquires, int HoldMs, string? JsonPath, TimeSpan Timeout, IReadOnlyList<Fault> Faults);

/// <summary>
/// N processes contend for one lock, each acquiring and releasing it K times: the lock manager's handoff rate
/// and acquire latency (one process: the uncontended latency). Every grant's fencing token must be distinct
/// and in sequence (1..N*K): no grant was doubled or lost.
/// </summary>
public static class LockScenario
{
    public static async Task<int> RunAsync(LockOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]lock[/]: {options.Processes} process(es) x {options.Acquires} acquires, hold {options.HoldMs} ms");
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
            MainLock = Locker.LockName,
        };
        var parameters = new Dictionary<string, string>
        {
            ["acquires"] = options.Acquires.ToString(),
            ["hold-ms"] = options.HoldMs.ToString(),
            ["timeout-ms"] = ((long)options.Timeout.TotalMilliseconds).ToString(),
        };
        for (var i = 1; i <= options.Processes; i++)
            run.Add($"locker-{i}", new Locker().Name, parameters);

        var phases = await run.ExecuteAsync(options.Timeout, options.Faults,
            () => run.AwaitWorkDoneAsync(options.Processes, options.Timeout, cancellationToken), cancellationToken);
        var wall = run.Elapsed;
        var census = run.Census();
        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);

        long Sum(string figure) => results.Values.Sum(r => r.Figures.GetValueOrDefault(figure));
        var grants = Sum("acquires");
        // Tokens count up from 1 per lock: N*K grants, each distinct and none skipped, sum to N*K*(N*K+1)/2.
        var tokensInSequence = Sum("token_sum") == grants * (grants + 1) / 2
                               && results.Values.Select(r => r.Figures.GetValueOrDefault("token_max")).DefaultIfEmpty(0).Max() == grants;
        var workSeconds = Math.Max(phases.Work.TotalSeconds, 0.001);
        var handoffs = grants / workSeconds;
        var medians = results.Values.Select(r => (double)r.Figures.GetValueOrDefault("acquire_us_median")).Order().ToList();
        var acquireMedian = medians.Count == 0 ? 0 : medians[medians.Count / 2];
        var acquireP99 = results.Values.Select(r => r.Figures.GetValueOrDefault("acquire_us_p99")).DefaultIfEmpty(0).Max();
        var unexpectedExits = run.UnexpectedExits();
        var clean = phases.Failure is null && unexpectedExits.Count == 0 && census.Zombies.Count == 0 && census.Orphans.Count == 0;
        // A killed holder's grant is taken back, not counted by anyone: the sequence check holds only for a clean run.
        var ok = clean && (tokensInSequence || run.FaultOutcomes.Count > 0);

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "acquires", "acquire median (us)", "p99 (us)", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", r?.Figures.GetValueOrDefault("acquires").ToString() ?? "-",
                r?.Figures.GetValueOrDefault("acquire_us_median").ToString() ?? "-", r?.Figures.GetValueOrDefault("acquire_us_p99").ToString() ?? "-",
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]", RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        console.MarkupLine($"{grants} grants, tokens 1..{grants} each once: {(tokensInSequence ? "[green]yes[/]" : "[red]NO[/]")}");
        console.MarkupLine($"{handoffs:0} handoffs/s over {workSeconds:0.000} s; acquire median {acquireMedian:0} us, p99 {acquireP99} us; all ready after {phases.Ready.TotalSeconds:0.000} s, wall {wall.TotalSeconds:0.000} s");
        RunReport.PrintEnd(console, census, phases.Failure, unexpectedExits);

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "lock",
                ["ok"] = ok,
                ["error"] = phases.Failure,
                ["grants"] = grants,
                ["tokens_in_sequence"] = tokensInSequence,
                ["handoffs_per_s"] = Math.Round(handoffs, 1),
                ["acquire_us_median"] = acquireMedian,
                ["acquire_us_p99"] = acquireP99,
                ["timing"] = RunReport.Timing(phases.Ready, workSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
