using Sim.Core.Scenarios;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests.History;

/// <summary>The in-process runner of a user's tests records and checks the history as <c>sim run</c> does: one mechanism.</summary>
[Collection(ProcessTests.Name)]
public sealed class InProcessHistoryTests(ITestOutputHelper output) : ScenarioTestKit(output)
{
    [Fact]
    public async Task With_the_lock_the_ticket_history_passes_every_checker()
    {
        var report = await RunScenarioAsync(BuiltInScenarios.Tickets(4, 2, useLock: true, delayMs: 5));
        ScenarioAssert.Ok(report);
        Assert.Equal(["ticket file as a register", "mutual exclusion of lock tickets"], report.History.Select(c => c.Name));
        Assert.All(report.History, c => Assert.True(c.Passed, c.Detail));
        Assert.Contains("4 grants", report.History[1].Detail);
    }

    [Fact]
    public async Task Without_the_lock_the_counter_checker_names_the_lost_updates_and_the_run_is_still_the_lesson()
    {
        // Read, wait 50 ms, write: three counters released together read the same values.
        var report = await RunScenarioAsync(BuiltInScenarios.Counter(3, 4, "nolock", delayMs: 50));
        var counter = Assert.Single(report.History, c => c.Name == "counter counter");
        Assert.False(counter.Passed, counter.Detail);
        Assert.Matches(@"counter-\d, counter-\d and counter-\d all read \d+ and wrote \d+|counter-\d and counter-\d both read \d+ and wrote \d+", counter.Detail);
        Assert.NotEmpty(counter.Evidence!);
        Assert.True(report.Ok, "the race is the lesson without the lock: the run is not failed for it");
    }
}
