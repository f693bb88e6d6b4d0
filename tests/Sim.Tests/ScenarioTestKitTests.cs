using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

/// <summary>
/// A test written as a user writes one: a role in code, a scenario file, <see cref="ScenarioTestKit"/> running it in-process
/// with the same report as <c>sim run</c>, faults included.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ScenarioTestKitTests(ITestOutputHelper output) : ScenarioTestKit(output)
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-kit-").FullName;

    /// <summary>A user's role: adds 1 to the shared value <c>total</c> <c>times</c> times, <c>pause-ms</c> apart.</summary>
    public sealed class Adder : IRole
    {
        public string Name => "adder";

        public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
        {
            var (times, pause) = (participant.Info.Int("times", 1), TimeSpan.FromMilliseconds(participant.Info.Int("pause-ms", 0)));
            var total = await participant.SharedAsync("total", SharedKind.Value, cancellationToken: cancellationToken);
            await participant.ReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            for (var i = 0; i < times; i++)
            {
                await total.AddAsync(1, cancellationToken: cancellationToken);
                await Task.Delay(pause, cancellationToken);
            }
            await participant.ReportAsync(new Dictionary<string, long> { ["added"] = times }, cancellationToken: cancellationToken);
            return 0;
        }
    }

    private const string AddersFile = """
        name = adders
        timeout-s = 60
        parameters { adders = 3, times = 20, pause_ms = 0 }
        participants = [ { role = adder, count = adders, name = "adder-{i}", parameters { times = "{times}", pause-ms = "{pause_ms}" } } ]
        primitives = [ { kind = value, name = total, size = 0 } ]
        figures { added = "sum(added)" }
        checks = [ "total.value >= added", "reported(added) == adders" ]
        table = [ added ]
        """;

    [Fact]
    public async Task A_scenario_file_with_a_role_of_the_test_runs_in_the_kit_and_a_kill_is_a_kill()
    {
        var path = Path.Combine(_folder, "adders.hocon");
        await File.WriteAllTextAsync(path, AddersFile);
        Runner.WithRole<Adder>();

        var report = await RunScenarioFileAsync(path);
        ScenarioAssert.Ok(report);
        Assert.Equal(60, report.Figure("added"));
        Assert.Equal(60, report.Outcome.Facts["total.value"]);

        // adder-2 killed mid-run (200 adds, 5 ms apart): exit code -9 as a SIGKILLed process, expected, not reported;
        // the others finish; the check that everyone reported fails, and only that one.
        var killed = LoadScenario(path, new Dictionary<string, string> { ["times"] = "200", ["pause_ms"] = "5" }) with
        {
            Faults = [new ScenarioFault(ScenarioFaultAction.Kill, "adder-2", 0.3)],
        };
        report = await RunScenarioAsync(killed);
        var victim = report.Outcome.Participants.Single(p => p.Spec.Name == "adder-2");
        Assert.Equal(-9, victim.ExitCode);
        Assert.True(victim.Faulted);
        Assert.Null(victim.Result);
        Assert.Empty(report.UnexpectedExits);
        Assert.All(report.Outcome.Participants.Where(p => p != victim), p => Assert.Equal(0, p.ExitCode));
        Assert.True(report.Check("total.value >= added").Passed, report.Check("total.value >= added").Detail);
        Assert.False(report.Check("reported(added) == adders").Passed);
        Assert.False(report.Ok);
    }

    [Fact]
    public async Task A_run_past_the_hard_timeout_fails_the_test_in_one_line()
    {
        var path = Path.Combine(_folder, "adders.hocon");
        await File.WriteAllTextAsync(path, AddersFile);
        Runner.WithRole<Adder>();
        HardTimeout = TimeSpan.FromSeconds(4);
        var slow = LoadScenario(path, new Dictionary<string, string> { ["times"] = "100000", ["pause_ms"] = "10" });
        var e = await Assert.ThrowsAsync<TimeoutException>(() => RunScenarioAsync(slow));
        Assert.Contains("did not end within", e.Message);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            Directory.Delete(_folder, recursive: true);
        base.Dispose(disposing);
    }
}
