using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record LockOptions(int Processes, int Acquires, int HoldMs, string? JsonPath, TimeSpan Timeout, IReadOnlyList<Fault> Faults,
    int LeaseMs = 0, int Warmup = 0);

/// <summary>
/// N processes contend for one lock, each acquiring and releasing it K times: the lock manager's handoff rate
/// and acquire latency (one process: the uncontended latency). Every grant's fencing token must be distinct
/// and in sequence (1..N*K): no grant was doubled or lost. An instance of the model (<see cref="BuiltInScenarios.Lock"/>);
/// only its table, lines and JSON are its own.
/// </summary>
public static class LockScenario
{
    public static async Task<int> RunAsync(LockOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]lock[/]: {options.Processes} process(es) x {options.Acquires} acquires, hold {options.HoldMs} ms");
        var scenario = BuiltInScenarios.Lock(options.Processes, options.Acquires, options.HoldMs, options.Timeout,
            options.Faults.Select(f => f.ToModel()).ToList(), options.Warmup).WithLease(Sim.Core.Roles.Locker.LockName, options.LeaseMs);
        return await ModelScenario.RunAsync(scenario, RoleLibrary.BuiltIn, console, _ => throw new InvalidOperationException("lock has no ticket file"),
            result => Task.FromResult(Present(options, result, console)), cancellationToken);
    }

    private static int Present(LockOptions options, ProcessScenarioResult result, IAnsiConsole console)
    {
        var (run, report, census, results, phases, wall) = (result.Run, result.Report, result.Census, result.Results, result.Phases, result.Wall);
        var grants = report.Figure("grants") ?? 0;
        var tokensInSequence = report.Figure("tokens_in_sequence") == 1;
        var workSeconds = Math.Max(phases.Work.TotalSeconds, 0.001);
        var handoffs = grants / workSeconds;
        if (options.Warmup > 0 && results.Count > 0)
        {
            // The timed grants over the longest timed part: every locker warmed up alike first (the lock is FIFO, so
            // they finish warming within a round of each other).
            var timedSeconds = Math.Max(results.Values.Max(r => r.Figures.GetValueOrDefault("work_ms")) / 1000.0, 0.001);
            handoffs = results.Values.Sum(r => r.Figures.GetValueOrDefault("acquires")) / timedSeconds;
        }
        var medians = results.Values.Select(r => (double)r.Figures.GetValueOrDefault("acquire_us_median")).Order().ToList();
        var acquireMedian = medians.Count == 0 ? 0 : medians[medians.Count / 2];
        var acquireP99 = report.Figure("acquire_us_p99") ?? 0;
        var unexpectedExits = run.Processes.Where(p => report.UnexpectedExits.Any(u => u.Spec.Name == p.Name)).ToList();
        // A killed holder's grant is taken back, not counted by anyone: the model checks the sequence only without faults.
        var ok = result.Ok;

        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "pid", "host", "acquires", "acquire median (us)", "p99 (us)", "exit code", "ended (s)");
        foreach (var process in run.Processes)
        {
            results.TryGetValue(process.Name, out var r);
            table.AddRow(process.Name, process.Pid?.ToString() ?? "-", Markup.Escape(process.Host), r?.Figures.GetValueOrDefault("acquires").ToString() ?? "-",
                r?.Figures.GetValueOrDefault("acquire_us_median").ToString() ?? "-", r?.Figures.GetValueOrDefault("acquire_us_p99").ToString() ?? "-",
                process.ExitCode == 0 ? "0" : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]", RunReport.EndedSeconds(run, process));
        }
        console.Write(table);
        console.MarkupLine($"{grants} grants, tokens 1..{grants} each once: {(tokensInSequence ? "[green]yes[/]" : "[red]NO[/]")}");
        console.MarkupLine($"{handoffs:0} handoffs/s{(options.Warmup > 0 ? $" after {options.Warmup} untimed acquires each" : $" over {workSeconds:0.000} s")}; acquire median {acquireMedian:0} us, p99 {acquireP99} us; {phases.Summary(wall)}");
        RunReport.PrintEnd(console, census, phases.Failure, unexpectedExits);

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "lock",
                ["ok"] = ok,
                ["error"] = phases.Failure,
                ["grants"] = grants,
                ["warmup_acquires"] = options.Warmup,
                ["tokens_in_sequence"] = tokensInSequence,
                ["handoffs_per_s"] = Math.Round(handoffs, 1),
                ["acquire_us_median"] = acquireMedian,
                ["acquire_us_p99"] = acquireP99,
                ["timing"] = RunReport.Timing(phases, workSeconds, wall),
            };
            RunReport.AddRunFacts(json, run, census, results);
            ModelScenario.AddModelReport(json, report);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
