using System.Text.Json.Nodes;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// `sim bench tickets` printed "sim: interrupted" (exit 130) after its cold runs: the new pool server of 100 answered
/// its first status only after starting all its nodes (28 s measured on 2 cores, the nodes already booting taking the
/// CPU) and the launcher's 10 s deadline surfaced as a cancellation, which the command line reports as Ctrl-C. A
/// server that answers late is waited for; one that never answers fails the run with one line.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class WarmPoolAnswerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-answer-").FullName;

    private string Socket => Path.Combine(_folder, "pool.sock");

    [Fact]
    public async Task A_pool_server_slow_to_answer_is_waited_for()
    {
        await using var fake = new FakePoolServer(Socket, _ =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(12));
            return [new JsonObject { ["op"] = "status", ["pid"] = Environment.ProcessId, ["size"] = 1, ["idle"] = 1 }];
        });
        await using var pool = await WarmPool.ConnectAsync(Socket);
        Assert.Equal(Environment.ProcessId, pool.ServerPid);
    }

    [Fact]
    public async Task A_pool_server_that_never_answers_fails_the_run_with_one_line_not_as_an_interrupt()
    {
        await using var fake = new FakePoolServer(Socket, _ => []);
        // A 3 s answer time instead of the default 30 s keeps the test short; the slow server above shows the default.
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { ["SIM_POOL_SOCKET"] = Socket, [WarmPool.AnswerTimeoutVariable] = "3" }, "pool", "wait");
        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("did not answer", run.Stderr);
        Assert.Contains(Socket, run.Stderr);
        Assert.Contains("3 s", run.Stderr);
    }

    [Fact]
    public async Task A_bad_answer_time_is_a_usage_error_naming_the_value()
    {
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["SIM_POOL_SOCKET"] = Socket, [WarmPool.AnswerTimeoutVariable] = "soon" }, "pool", "status");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("SIM_POOL_ANSWER_TIMEOUT 'soon'", run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
