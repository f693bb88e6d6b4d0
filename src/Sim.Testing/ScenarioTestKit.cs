using System.Reflection;
using Akka.Configuration;
using Sim.Core;
using Sim.Core.Scenarios;
using Xunit.Abstractions;

namespace Sim.Testing;

/// <summary>
/// Base class of a user's scenario tests, an Akka.TestKit (xunit 2) test class: <see cref="RunScenarioAsync"/> runs a
/// scenario in-process (built in code, or loaded with <see cref="LoadScenario"/> from a HOCON file) with
/// <see cref="InProcessScenarioRunner"/> under a hard timeout and returns the same <see cref="ScenarioReport"/> as
/// <c>sim run</c>; <see cref="RunScenarioAsProcessesAsync"/> runs a file as real processes. Each run's verdict goes to
/// the test's output. The kit's own <c>Sys</c> (Sim's configuration and serializer, every message serialized) is
/// there for the test's probes and actors; each run gets a coordinator system of its own.
/// </summary>
public abstract class ScenarioTestKit : Akka.TestKit.Xunit2.TestKit
{
    protected ScenarioTestKit(ITestOutputHelper? output = null) : base(KitConfig, "scenario-test", output)
    {
    }

    private static Config KitConfig => ConfigurationFactory.ParseString("""
        akka.actor.provider = local
        akka.actor.serialize-messages = on
        akka.actor.serialize-creators = off
        akka.loglevel = WARNING
        """).WithFallback(SimConfig.Node());

    /// <summary>How long one run may take before the test fails (its participants are then ended).</summary>
    protected TimeSpan HardTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The in-process runner: add roles given in code with <c>Runner.WithRole&lt;TRole&gt;()</c>.</summary>
    protected InProcessScenarioRunner Runner { get; } = new();

    /// <summary>
    /// Loads a scenario file; <paramref name="set"/> changes its parameters (as <c>--set</c>), and <paramref name="roles"/>
    /// (e.g. <c>typeof(MyRole).Assembly</c>, the library the test project was built with) replaces its roles-assembly.
    /// </summary>
    protected static Scenario LoadScenario(string path, IReadOnlyDictionary<string, string>? set = null, Assembly? roles = null)
    {
        var scenario = ScenarioLoader.LoadFile(path, set);
        return roles is null ? scenario : scenario with { RolesAssembly = roles.Location };
    }

    /// <summary>Runs <paramref name="scenario"/> in-process to its report; a run still going after <see cref="HardTimeout"/> fails the test.</summary>
    protected async Task<ScenarioReport> RunScenarioAsync(Scenario scenario)
    {
        using var hard = new CancellationTokenSource(HardTimeout);
        ScenarioReport report;
        try
        {
            // Cancelled at the hard timeout, the runner ends every participant before it returns; the wait is the backstop.
            report = await Runner.ExecuteAsync(scenario, hard.Token).WaitAsync(HardTimeout + TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && hard.IsCancellationRequested))
        {
            throw new TimeoutException($"scenario '{scenario.Name}' did not end within {HardTimeout} in-process; its participants were ended");
        }
        Output?.WriteLine($"{scenario.Name} in-process: {ScenarioRunSummary.From(report)}");
        return report;
    }

    /// <summary>Loads and runs a scenario file in-process (see <see cref="LoadScenario"/>).</summary>
    protected Task<ScenarioReport> RunScenarioFileAsync(string path, IReadOnlyDictionary<string, string>? set = null, Assembly? roles = null) =>
        RunScenarioAsync(LoadScenario(path, set, roles));

    /// <summary>Runs a scenario file as real processes (<c>sim run</c>, see <see cref="ProcessScenarioRunner"/>).</summary>
    protected async Task<ProcessRunResult> RunScenarioAsProcessesAsync(string path, IReadOnlyDictionary<string, string>? set = null, Assembly? roles = null)
    {
        var run = await ProcessScenarioRunner.RunAsync(path, HardTimeout, roles?.Location, set).ConfigureAwait(false);
        Output?.WriteLine($"{Path.GetFileName(path)} as processes: exit code {run.ExitCode}, {run.Summary?.ToString() ?? run.Stderr.Trim()}");
        return run;
    }
}
