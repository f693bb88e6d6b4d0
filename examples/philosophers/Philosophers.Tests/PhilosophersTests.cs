using System.Diagnostics;
using Philosophers.Roles;
using Sim.Core.Scenarios;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Philosophers.Tests;

/// <summary>
/// The philosophers scenario, tested as its user would with Sim.Testing's <see cref="ScenarioTestKit"/> (an Akka.TestKit
/// test class): in-process (fast), and as real processes through `sim run`. The naive order deadlocks: the lock manager
/// finds the cycle of five and the run ends at once (by default), long before any fork's timeout.
/// </summary>
public sealed class PhilosophersTests(ITestOutputHelper output) : ScenarioTestKit(output)
{
    private static readonly string ScenarioFile = Path.Combine(AppContext.BaseDirectory, "philosophers.hocon");

    /// <summary>The role library this test project was built with (the file's roles-assembly path is for `sim run` by hand).</summary>
    private static readonly System.Reflection.Assembly Roles = typeof(Philosopher).Assembly;

    // A wide gap between the two forks: every philosopher holds its first fork before anyone reaches for a second.
    private static Dictionary<string, string> Settings(string order, int forkTimeoutMs = 2000) =>
        new() { ["order"] = order, ["gap_ms"] = "500", ["fork_timeout_ms"] = forkTimeoutMs.ToString() };

    [Fact]
    public async Task In_process_the_hierarchy_never_deadlocks()
    {
        var report = await RunScenarioFileAsync(ScenarioFile, Settings("hierarchy"), Roles);
        var run = ScenarioRunSummary.From(report);
        Assert.True(run.Ok, run.ToString());
        Assert.Empty(run.DeadlockCycle);
        Assert.Equal(0, run.Facts["deadlocks"]);
    }

    [Fact]
    public async Task In_process_the_naive_order_is_found_deadlocked_at_once_with_its_cycle_of_five()
    {
        // Forks would time out after 30 s: the run must end long before that.
        var report = await RunScenarioFileAsync(ScenarioFile, Settings("naive", 30_000), Roles);
        var run = ScenarioRunSummary.From(report);
        Assert.False(run.Ok);
        Assert.StartsWith("deadlock: ", run.Error);
        Assert.Equal(5, run.DeadlockCycle.Count);
        Assert.All(Enumerable.Range(1, 5), seat => Assert.Contains(run.DeadlockCycle, e => e.StartsWith($"philosopher-{seat} holds fork-{seat}, wants fork-{seat % 5 + 1}")));
        Assert.True(report.Outcome.Work < TimeSpan.FromSeconds(10), $"work took {report.Outcome.Work}");
    }

    [Fact]
    public async Task In_process_with_on_deadlock_continue_the_naive_order_is_reported_and_its_forks_time_out()
    {
        var scenario = LoadScenario(ScenarioFile, Settings("naive"), Roles) with { OnDeadlock = DeadlockPolicy.Continue };
        var run = ScenarioRunSummary.From(await RunScenarioAsync(scenario));
        Assert.False(run.Ok, run.ToString());
        Assert.Null(run.Error);
        Assert.False(run.Check("timeouts == 0").Passed);
        Assert.True(run.Figures["timeouts"] > 0, run.ToString()); // philosophers waited for a fork that never came
        Assert.True(run.Facts["deadlocks"] >= 1);
        Assert.Equal(5, run.DeadlockCycle.Count);
    }

    [Fact]
    public async Task As_real_processes_the_hierarchy_eats_every_meal()
    {
        var run = await RunScenarioAsProcessesAsync(ScenarioFile, Settings("hierarchy"), Roles);
        Assert.True(run.Summary is not null, run.Stdout + run.Stderr);
        Assert.True(run.Summary.Ok, run.Summary + "\n" + run.Stdout);
        Assert.Equal(0, run.ExitCode);
        Assert.True(run.Summary.Check("timeouts == 0").Passed);
        Assert.Equal(5, run.Summary.ExitCodes.Count);
        Assert.All(run.Summary.ExitCodes.Values, code => Assert.Equal(0, code));
    }

    [Fact]
    public async Task As_real_processes_the_naive_order_ends_at_once_with_the_cycle_printed()
    {
        var clock = Stopwatch.StartNew();
        var run = await RunScenarioAsProcessesAsync(ScenarioFile, Settings("naive", 60_000), Roles);
        Assert.True(run.Summary is not null, run.Stdout + run.Stderr);
        Assert.Equal(1, run.ExitCode);
        Assert.False(run.Summary.Ok);
        Assert.StartsWith("deadlock: ", run.Summary.Error);
        Assert.Equal(5, run.Summary.DeadlockCycle.Count);
        Assert.Contains("philosopher-1 holds fork-1, wants fork-2 (held by philosopher-2)", run.Stdout);
        // Forks would time out after 60 s, the scenario after 60 s more: the deadlock ended it instead.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
        Assert.All(run.Summary.ExitCodes.Values, code => Assert.NotEqual(0, code));
    }
}
