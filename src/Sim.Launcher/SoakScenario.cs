using System.Diagnostics;
using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

/// <param name="DryRun">Only print the runs the seed plans (this many), without running them: a seed's sequence, to compare.</param>
public sealed record SoakOptions(TimeSpan Duration, int Seed, string? JsonPath, int DryRun = 0);

/// <summary>
/// <c>sim soak</c>: random scenarios with random kills, terminations, pauses and partitions, one after the other, for as
/// long as asked. After every run the scenario's own checks (nothing oversold or lost, every item consumed exactly once,
/// every increment kept) must hold. Everything random comes from one seed, printed first, so a failing sequence of
/// runs is played again exactly (the same scenarios, sizes and faults; the machine's timing is its own).
/// </summary>
public static class SoakScenario
{
    private sealed record Planned(Scenario Scenario, string Summary);

    /// <summary>
    /// <paramref name="Violations"/>: what the run's checks found (safety). <paramref name="Failure"/> without violations: the
    /// run did not finish in time (liveness), e.g. a request lost in a partition that nobody sends again.
    /// </summary>
    private sealed record Outcome(int Index, string Summary, IReadOnlyList<string> Violations, IReadOnlyList<string> Faults, double Seconds,
        string? Failure)
    {
        public bool Violated => Violations.Count > 0;
        public bool Stalled => !Violated && Failure is not null;
    }

    public static async Task<int> RunAsync(SoakOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated($"[bold]soak[/]: random scenarios and faults for {options.Duration.TotalMinutes:0.##} min, seed {options.Seed} (replay: --seed {options.Seed})");
        var random = new Random(options.Seed);
        if (options.DryRun > 0)
        {
            for (var i = 1; i <= options.DryRun; i++)
                console.WriteLine($"run {i}: {Plan(random, i).Summary}");
            return 0;
        }
        var clock = Stopwatch.StartNew();
        var outcomes = new List<Outcome>();
        var folder = Directory.CreateTempSubdirectory("sim-soak-").FullName;
        try
        {
            while (clock.Elapsed < options.Duration && !cancellationToken.IsCancellationRequested)
            {
                var planned = Plan(random, outcomes.Count + 1);
                var quiet = new StringWriter();
                var console2 = AnsiConsole.Create(new AnsiConsoleSettings
                {
                    Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(quiet),
                });
                console2.Profile.Width = 160;
                var started = clock.Elapsed;
                Outcome outcome;
                try
                {
                    outcome = await RunOneAsync(planned, outcomes.Count + 1, folder, console2, cancellationToken);
                }
                catch (RunFailedException e)
                {
                    outcome = new Outcome(outcomes.Count + 1, planned.Summary, [], [], (clock.Elapsed - started).TotalSeconds, e.Message);
                }
                outcomes.Add(outcome);
                var verdict = outcome.Violated ? "[red]VIOLATION[/]" : outcome.Stalled ? "[yellow]stalled[/]" : "[green]ok[/]";
                console.MarkupLineInterpolated($"run {outcome.Index}: {planned.Summary} -> ");
                console.MarkupLine($"  {verdict} in {outcome.Seconds:0.0} s{(outcome.Faults.Count > 0 ? "; " + Markup.Escape(string.Join("; ", outcome.Faults)) : "")}");
                if (outcome.Violated || outcome.Stalled)
                {
                    foreach (var line in outcome.Violations.Append(outcome.Failure).OfType<string>())
                        console.MarkupLineInterpolated($"  [red]{line}[/]");
                    console.WriteLine(quiet.ToString());
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var faultsByKind = outcomes.SelectMany(o => o.Faults).GroupBy(f => f.Split(' ')[0]).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Count());
        var violations = outcomes.Count(o => o.Violated);
        var stalled = outcomes.Count(o => o.Stalled);
        console.MarkupLine(
            $"{outcomes.Count} runs in {clock.Elapsed.TotalMinutes:0.0} min; faults: {(faultsByKind.Count == 0 ? "none" : string.Join(", ", faultsByKind.Select(kv => $"{kv.Key} {kv.Value}")))}; " +
            $"violations {(violations == 0 ? "[green]0[/]" : $"[red]{violations}[/]")}, stalled {stalled} (seed {options.Seed})");
        if (stalled > 0)
            console.MarkupLine("[yellow]stalled: a run that did not finish in time with every check holding (a request lost while cut off is not sent again: Akka.Remote drops what a broken link held)[/]");
        if (options.JsonPath is not null)
        {
            RunReport.WriteJson(options.JsonPath, new JsonObject
            {
                ["scenario"] = "soak",
                ["ok"] = violations == 0,
                ["seed"] = options.Seed,
                ["runs"] = outcomes.Count,
                ["violations"] = violations,
                ["stalled"] = stalled,
                ["faults"] = new JsonObject(faultsByKind.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["minutes"] = Math.Round(clock.Elapsed.TotalMinutes, 2),
                ["all"] = new JsonArray(outcomes.Select(o => (JsonNode)new JsonObject
                {
                    ["run"] = o.Index,
                    ["what"] = o.Summary,
                    ["ok"] = !o.Violated && !o.Stalled,
                    ["stalled"] = o.Stalled,
                    ["faults"] = new JsonArray(o.Faults.Select(f => (JsonNode)f).ToArray()),
                    ["violations"] = new JsonArray(o.Violations.Select(v => (JsonNode)v).ToArray()),
                    ["error"] = o.Failure,
                    ["seconds"] = Math.Round(o.Seconds, 2),
                }).ToArray()),
            });
        }
        return violations == 0 ? 0 : 1;
    }

    private static async Task<Outcome> RunOneAsync(Planned planned, int index, string folder, IAnsiConsole quiet, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Outcome? outcome = null;
        await ModelScenario.RunAsync(planned.Scenario, RoleLibrary.BuiltIn, quiet,
            declaration => Path.Combine(folder, $"run-{index}-{declaration.Name}.json"),
            async result =>
            {
                await ModelScenario.PresentAsync(result, quiet, null);
                var violations = result.Report.Checks.Where(c => !c.Passed).Select(c => $"check {c.Name} failed: {c.Detail}").ToList();
                violations.AddRange(result.Report.UnexpectedExits.Select(p => $"{p.Spec.Name} exited with code {p.ExitCode} for no reason given"));
                if (result.Census.Zombies.Count + result.Census.Orphans.Count > 0)
                    violations.Add($"{result.Census.Zombies.Count} zombies, {result.Census.Orphans.Count} orphans left");
                var faults = result.Run.FaultOutcomes.Select(f =>
                    $"{f.Fault.Action.ToString().ToLowerInvariant()} {f.Name ?? f.Fault.Target}@{f.AtSeconds ?? f.Fault.AtSeconds:0.##}" +
                    (f.Note is null ? "" : $" ({f.Note})")).ToList();
                outcome = new Outcome(index, planned.Summary, violations, faults, clock.Elapsed.TotalSeconds, result.Phases.Failure);
                return 0;
            }, cancellationToken);
        return outcome ?? throw new RunFailedException("the run ended without a report");
    }

    /// <summary>The next run: a scenario of the lesson with a lock or a queue, its size, and up to two faults.</summary>
    private static Planned Plan(Random random, int index)
    {
        // Short: a stalled run (see Outcome) should not take the soak's time.
        var timeout = TimeSpan.FromSeconds(20);
        var faults = new List<ScenarioFault>();
        ScenarioFault Fault(string target)
        {
            var kinds = new[] { ScenarioFaultAction.Kill, ScenarioFaultAction.Terminate, ScenarioFaultAction.Pause, ScenarioFaultAction.Partition };
            var action = kinds[random.Next(kinds.Length)];
            var at = Math.Round(random.NextDouble() * 1.2, 2);
            return new ScenarioFault(action, target, at)
            {
                Duration = action is ScenarioFaultAction.Pause or ScenarioFaultAction.Partition
                    ? TimeSpan.FromSeconds(Math.Round(0.5 + random.NextDouble() * 1.5, 1))
                    : null,
            };
        }
        // As the command line writes them (Fault's own text): --pause holder@0.3:1.2.
        string Describe(IEnumerable<ScenarioFault> list) => string.Join(", ", list.Select(f => Sim.Launcher.Fault.FromModel(f, null).ToString()));
        // A holder (of a lock, of a queue's items) that is paused or cut off without a lease holds everyone up until it is back, and
        // what was lost in a partition is never sent again: leases make those runs go on.
        int? Lease() => faults.Any(f => f.Lasts) ? 300 + random.Next(5) * 100 : null;
        // A lesson's scenario with a lock: up to two faults on its participants or the holder, a lease where one may stall.
        Planned Locked(string what, string participant, int count, string lockName, Func<Scenario> build)
        {
            for (var i = random.Next(3); i > 0; i--)
                faults.Add(Fault(random.Next(2) == 0 ? ScenarioFault.Holder : $"{participant}-{random.Next(1, count + 1)}"));
            var lease = Lease();
            var scenario = build();
            if (lease is { } ms)
                scenario = scenario.WithLease(lockName, ms);
            return new Planned(scenario, $"{what}{(lease is null ? "" : $" lease={lease}ms")} faults=[{Describe(faults)}]");
        }
        switch (random.Next(4))
        {
            case 0:
            {
                var buyers = random.Next(3, 7);
                var tickets = random.Next(1, buyers);
                var delay = random.Next(50, 400);
                return Locked($"tickets buyers={buyers} tickets={tickets} delay={delay}ms", "buyer", buyers, Buyer.LockName,
                    () => BuiltInScenarios.Tickets(buyers, tickets, true, delay, timeout, faults));
            }
            case 1:
            {
                var processes = random.Next(2, 5);
                var increments = random.Next(10, 60);
                var delay = random.Next(0, 5);
                return Locked($"counter processes={processes} increments={increments}", "counter", processes, Counter.LockName,
                    () => BuiltInScenarios.Counter(processes, increments, "lock", delay, timeout, faults));
            }
            case 2:
            {
                var processes = random.Next(2, 5);
                var acquires = random.Next(50, 400);
                var hold = random.Next(0, 3);
                return Locked($"lock processes={processes} acquires={acquires}", "locker", processes, Locker.LockName,
                    () => BuiltInScenarios.Lock(processes, acquires, hold, timeout, faults));
            }
            default:
            {
                // Joinable: a dead consumer's items are delivered again, and a paused or cut-off one's when their lease runs out,
                // so consumers may be faulted. Producers are left alone: what a killed producer had not yet put is simply never produced.
                var producers = random.Next(1, 3);
                var consumers = random.Next(2, 4);
                var items = random.Next(200, 3000);
                for (var i = random.Next(3); i > 0; i--)
                    faults.Add(Fault($"consumer-{random.Next(1, consumers + 1)}"));
                var lease = Lease();
                var scenario = BuiltInScenarios.Prodcons(producers, consumers, items, joinable: true, workMs: random.Next(0, 2), batch: random.Next(1, 50),
                    timeout: timeout, faults: faults, queue: ProdconsScenario.QueueName);
                if (lease is { } ms)
                    scenario = scenario.WithLease(ProdconsScenario.QueueName, ms);
                return new Planned(scenario,
                    $"prodcons joinable producers={producers} consumers={consumers} items={items}{(lease is null ? "" : $" lease={lease}ms")} faults=[{Describe(faults)}]");
            }
        }
    }
}
