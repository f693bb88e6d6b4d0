using System.Diagnostics;
using Sim.Core.Scenarios;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

/// <summary>
/// Issue 13 with real processes (`sim run`): an Event releases N waiting processes at once; a Barrier of 4 is broken for
/// everyone promptly when a waiting process is killed; a two-lock cycle between two processes is reported as a deadlock
/// at once instead of hanging until the waits time out.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class PrimitiveScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);

    private static string ScenarioFile(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name + ".hocon");

    private async Task<ScenarioRunSummary> RunAsync(string name, IReadOnlyDictionary<string, string>? set = null, int exitCode = 0)
    {
        var run = await ProcessScenarioRunner.RunAsync(ScenarioFile(name), HardTimeout, set: set);
        output.WriteLine(run.Stdout);
        Assert.True(run.Summary is not null, run.Stdout + run.Stderr);
        Assert.True(run.ExitCode == exitCode, $"exit code {run.ExitCode}: {run.Summary}\n{run.Stdout}");
        return run.Summary;
    }

    [Fact]
    public async Task An_event_releases_every_waiting_process_at_once()
    {
        var run = await RunAsync("event-release", new Dictionary<string, string> { ["waiters"] = "6" });
        Assert.True(run.Ok, run.ToString());
        Assert.Equal(6, run.Figures["released"]);
        Assert.Equal(6, run.Figures["woken_by_set"]); // one set woke all six: they were all waiting
        // Woken together: the six wake-ups lie within a second of each other and of the set (six processes on a shared
        // 2-core machine), where the waits' own timeout is 30 s.
        Assert.True(run.Figures["wake_spread_ms"] < 1000, $"wake-ups spread over {run.Figures["wake_spread_ms"]} ms");
        Assert.True(run.Figures["slowest_wake_ms"] < 1000, $"the last woke {run.Figures["slowest_wake_ms"]} ms after the set");
    }

    [Fact]
    public async Task A_barrier_of_four_is_broken_for_everyone_promptly_when_a_waiting_process_is_killed()
    {
        var run = await RunAsync("barrier-kill");
        Assert.True(run.Ok, run.ToString());
        Assert.Equal(-9, run.ExitCodes["party-1"]);
        Assert.Equal(3, run.Figures["broken"]);
        // Waits of 30 s: the others learnt of the death (1.5 s in) at once, not at their timeout; the late one (4 s in)
        // found the barrier broken.
        Assert.True(run.Figures["longest_wait_ms"] < 6000, $"a party waited {run.Figures["longest_wait_ms"]} ms");
        Assert.Equal(1, run.Facts["meet.broken"]);
    }

    [Fact]
    public async Task Without_the_kill_the_four_parties_pass_the_barrier_together()
    {
        var run = await RunAsync("barrier-kill", new Dictionary<string, string> { ["late_ms"] = "300" }, exitCode: 1);
        // The kill at 1.5 s finds party-1 past the barrier (everyone passed at 0.3 s): nobody is broken.
        Assert.Equal(0, run.Figures["broken"]);
        Assert.False(run.Check("broken == parties - 1").Passed);
        Assert.Equal(0, run.Facts["meet.broken"]);
    }

    [Fact]
    public async Task A_two_lock_cycle_between_two_processes_is_reported_as_a_deadlock_at_once()
    {
        var clock = Stopwatch.StartNew();
        var run = await RunAsync("lock-cycle", exitCode: 1);
        Assert.False(run.Ok);
        Assert.StartsWith("deadlock: ", run.Error);
        Assert.Equal(2, run.DeadlockCycle.Count);
        Assert.Contains("left holds a, wants b (held by right)", run.DeadlockCycle);
        Assert.Contains("right holds b, wants a (held by left)", run.DeadlockCycle);
        Assert.Equal(1, run.Facts["deadlocks"]);
        // Reported within a second of the cycle closing (each takes its second lock 300 ms into the work), not after the
        // waits' 30 s timeout.
        Assert.True(run.Work < TimeSpan.FromSeconds(1.3), $"the work phase lasted {run.Work}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"took {clock.Elapsed}");
    }
}
