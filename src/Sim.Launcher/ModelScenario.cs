using System.Text.Json.Nodes;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

/// <summary>What a run of a model scenario as processes leaves for whoever prints it.</summary>
public sealed record ProcessScenarioResult(
    ScenarioRun Run, ScenarioPrimitives Primitives, RunPhases Phases, ScenarioReport Report, ProcessCensus Census,
    IReadOnlyDictionary<string, ParticipantResult> Results, TimeSpan Wall)
{
    /// <summary>The report's verdict, and no zombie or orphan left by the processes.</summary>
    public bool Ok => Report.Ok && Census.Zombies.Count == 0 && Census.Orphans.Count == 0;
}

/// <summary>
/// Runs any scenario of the model (Sim.Core.Scenarios) as real processes: declares its primitives on the coordinator, one
/// <see cref="SimProcess"/> per participant (a user's roles through <c>--roles-assembly</c>), its faults as signals, the
/// work phase of <see cref="ScenarioWork"/>, then the facts, figures and checks of <see cref="ScenarioReport"/>.
/// </summary>
public static class ModelScenario
{
    /// <summary><c>--validate-only</c>: a run stops once its scenario is built and checked, and prints how many participants it has.</summary>
    public static bool ValidateOnly { get; set; }

    /// <summary>Runs <paramref name="scenario"/>; <paramref name="present"/> prints the result (the run is still open) and returns the exit code.</summary>
    public static async Task<int> RunAsync(Scenario scenario, RoleLibrary roles, IAnsiConsole console, Func<PrimitiveDeclaration, string> ticketFile,
        Func<ProcessScenarioResult, Task<int>> present, CancellationToken cancellationToken)
    {
        // Everything that can be wrong with the scenario is found before any process starts.
        scenario.Validate(roles.Names);
        var specs = scenario.Expand();
        if (ValidateOnly)
        {
            Console.Out.WriteLine(new JsonObject { ["participants"] = specs.Count }.ToJsonString());
            return 0;
        }
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"),
            partitionable: scenario.Faults.Any(f => f.Action == ScenarioFaultAction.Partition))
        {
            ConnectTimeout = scenario.Timeout,
        };
        var primitives = await ScenarioPrimitives.DeclareAsync(run.Coordinator, scenario, ticketFile);
        foreach (var spec in specs)
            run.Add(spec.Name, spec.Role, spec.Parameters, spec.Daemon, roles.AssemblyPath);
        var faults = scenario.Faults.ToDictionary(f => Fault.FromModel(f, scenario.HolderLock(f)));

        IReadOnlySet<string> endedByRun = new HashSet<string>();
        var shell = new ProcessShell(run);
        var phases = await run.ExecuteAsync(scenario.Timeout, faults.Keys, async () =>
        {
            var started = run.Elapsed;
            try
            {
                var work = await ScenarioWork.RunAsync(scenario, specs, primitives, shell, cancellationToken);
                endedByRun = work.EndedByRun;
                return started + work.Done;
            }
            catch (Exception e) when (e is TimeoutException or DeadlockException)
            {
                throw new RunFailedException(e.Message);
            }
        }, cancellationToken);
        var wall = run.Elapsed;
        var census = run.Census();
        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        var participants = specs.Select(spec =>
        {
            var process = run.Processes.First(p => p.Name == spec.Name);
            return new ParticipantOutcome(spec, process.ExitCode, run.WasFaulted(process),
                (endedByRun.Contains(spec.Name) && process.ExitCode == -15) || run.WasEndedByRun(process), results.GetValueOrDefault(spec.Name));
        }).ToList();
        var facts = await primitives.CollectFactsAsync(participants);
        var applied = run.FaultOutcomes.Select(f => new AppliedFault(faults[f.Fault], f.Name, f.AtSeconds, f.Note)).ToList();
        var outcome = new ScenarioOutcome(scenario, participants, facts, applied, phases.Failure, phases.Ready, phases.Work, wall, primitives.Deadlock,
            primitives.LeaseExpiries) { ReleasedAt = phases.ReleasedAt };
        // The run's history, checked by the checkers its primitives call for: their verdicts are part of the report.
        var recorded = Reports.RunRecording.Check(run, scenario, specs, phases.ReleasedAt);
        var report = ScenarioReport.Evaluate(outcome) with { History = recorded?.Verdicts.Select(v => v.ToCheck()).ToList() ?? [] };
        foreach (var line in report.LeaseLines().Concat(run.LastingFaultAftermath()))
            console.MarkupLineInterpolated($"[yellow]{line}[/]");
        var result = new ProcessScenarioResult(run, primitives, phases, report, census, results, wall);
        var code = await present(result);
        Reports.RunRecording.Finish(result, recorded?.History, console);
        return code;
    }

    /// <summary>The report of any model scenario: the process table with its columns, figures, checks, and the JSON.</summary>
    public static Task<int> PresentAsync(ProcessScenarioResult result, IAnsiConsole console, string? jsonPath)
    {
        var (run, report) = (result.Run, result.Report);
        var scenario = report.Outcome.Scenario;
        var table = new Table().Border(TableBorder.Rounded).AddColumns(["name", "pid", "host", "role", .. scenario.Columns, "exit code", "ended (s)"]);
        foreach (var process in run.Processes)
        {
            result.Results.TryGetValue(process.Name, out var r);
            var expected = report.Outcome.Participants.First(p => p.Spec.Name == process.Name) is { Unexpected: false };
            table.AddRow([
                Markup.Escape(process.Name), process.Pid?.ToString() ?? "-", Markup.Escape(process.Host), Markup.Escape(process.Role),
                .. scenario.Columns.Select(c => r is not null && r.Figures.TryGetValue(c, out var v) ? v.ToString() : "-"),
                RunReport.ExitCell(process, expected),
                RunReport.EndedSeconds(run, process),
            ]);
        }
        console.Write(table);
        if (report.Figures.Count > 0)
            console.MarkupLineInterpolated($"{string.Join(", ", report.Figures.Select(f => $"{f.Key} {f.Value?.ToString() ?? "undefined"}"))}");
        foreach (var check in report.Checks)
        {
            if (check.Passed)
                console.MarkupLineInterpolated($"[green]passed[/] {check.Name} ({check.Detail})");
            else
                console.MarkupLineInterpolated($"[red]FAILED[/] {check.Name} ({check.Detail})");
        }
        console.MarkupLine(
            Markup.Escape(result.Phases.Summary(result.Wall)));
        if (report.Outcome.Deadlock is { } deadlock)
        {
            console.MarkupLineInterpolated($"[red]deadlock ({(scenario.OnDeadlock == DeadlockPolicy.Fail ? "the run was ended" : "the run went on")}):[/]");
            foreach (var edge in deadlock.Cycle)
                console.MarkupLineInterpolated($"[red]  {edge}[/]");
        }
        RunReport.PrintEnd(console, result.Census, result.Phases.Failure, run.Processes.Where(p => report.UnexpectedExits.Any(u => u.Spec.Name == p.Name)));
        console.MarkupLine(result.Ok ? "[green]ok[/]" : "[red]NOT ok[/]");
        if (jsonPath is not null)
        {
            var json = report.ToJson(withParticipants: false);
            json["ok"] = result.Ok;
            RunReport.AddRunFacts(json, run, result.Census, result.Results);
            RunReport.WriteJson(jsonPath, json);
        }
        return Task.FromResult(result.Ok ? 0 : 1);
    }

    /// <summary>
    /// Adds the model's verdict to a built-in scenario's own JSON (its keys stay as they are): the figures, every check's
    /// verdict and the facts, as <c>sim run</c> writes them, so a test reads any run the same way.
    /// </summary>
    public static void AddModelReport(JsonObject json, ScenarioReport report)
    {
        var model = report.ToJson(withParticipants: false);
        foreach (var key in new[] { "figures", "checks", "history_checks", "facts", "lease_expiries" })
        {
            if (!json.ContainsKey(key) && model[key] is { } value)
                json[key] = value.DeepClone();
        }
    }

    /// <summary>Participants as OS processes, for the work phase.</summary>
    private sealed class ProcessShell(ScenarioRun run) : IParticipantShell
    {
        public Task<bool> JoinAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) =>
            run.Processes.First(p => p.Name == name).JoinAsync(timeout, cancellationToken);

        public void Terminate(string name)
        {
            var process = run.Processes.First(p => p.Name == name);
            if (process.IsAlive)
                process.Terminate();
        }
    }
}
