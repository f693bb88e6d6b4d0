using Philosophers.Roles;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Philosophers.Tests;

/// <summary>
/// The philosophers scenario, tested as its user would with Sim.Testing's <see cref="ScenarioTestKit"/> (an Akka.TestKit
/// test class): in-process (fast), and as real processes through `sim run`.
/// </summary>
public sealed class PhilosophersTests(ITestOutputHelper output) : ScenarioTestKit(output)
{
    private static readonly string ScenarioFile = Path.Combine(AppContext.BaseDirectory, "philosophers.hocon");

    /// <summary>The role library this test project was built with (the file's roles-assembly path is for `sim run` by hand).</summary>
    private static readonly System.Reflection.Assembly Roles = typeof(Philosopher).Assembly;

    // A wide gap between the two forks: every philosopher holds its first fork before anyone reaches for a second.
    private static Dictionary<string, string> Settings(string order) => new() { ["order"] = order, ["gap_ms"] = "500", ["fork_timeout_ms"] = "2000" };

    [Theory]
    [InlineData("hierarchy", true)]
    [InlineData("naive", false)]
    public async Task In_process_the_hierarchy_never_deadlocks_and_the_naive_order_does(string order, bool ok)
    {
        var run = ScenarioRunSummary.From(await RunScenarioFileAsync(ScenarioFile, Settings(order), Roles));
        Assert.True(run.Ok == ok, run.ToString());
        Assert.Equal(ok, run.Check("timeouts == 0").Passed);
        if (!ok)
            Assert.True(run.Figures["timeouts"] > 0, run.ToString()); // philosophers waited for a fork that never came
    }

    [Theory]
    [InlineData("hierarchy", true)]
    [InlineData("naive", false)]
    public async Task As_real_processes_the_same(string order, bool ok)
    {
        var run = await RunScenarioAsProcessesAsync(ScenarioFile, Settings(order), Roles);
        Assert.True(run.Summary is not null, run.Stdout + run.Stderr);
        Assert.True(run.Summary.Ok == ok, run.Summary + "\n" + run.Stdout);
        Assert.Equal(ok ? 0 : 1, run.ExitCode);
        Assert.Equal(ok, run.Summary.Check("timeouts == 0").Passed);
        Assert.Equal(5, run.Summary.ExitCodes.Count);
        Assert.All(run.Summary.ExitCodes.Values, code => Assert.Equal(0, code));
    }
}
