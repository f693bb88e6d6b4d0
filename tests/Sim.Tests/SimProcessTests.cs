using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>SimProcess against real Sim.Node processes, with the coordinator hosted in this test process.</summary>
[Collection(ProcessTests.Name)]
public sealed class SimProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(60);
    private ScenarioRun _run = null!;

    public Task InitializeAsync()
    {
        _run = new ScenarioRun(NodeBinary.Locate(), _ => { });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _run.DisposeAsync();

    private SimProcess Worker(string name, int workMs, int exitCode = 0, bool waitBarrier = false) =>
        _run.Add(name, "worker", new Dictionary<string, string>
        {
            ["work-ms"] = workMs.ToString(),
            ["exit-code"] = exitCode.ToString(),
            ["wait-barrier"] = waitBarrier ? "true" : "false",
        });

    /// <summary>Starts a long worker and waits until its node is up and talking to the coordinator.</summary>
    private async Task<SimProcess> RunningWorkerAsync(string name)
    {
        var process = Worker(name, 120_000, waitBarrier: true);
        process.Start();
        await _run.Coordinator.AwaitReadyAsync(1, Boot);
        return process;
    }

    [Fact]
    public async Task Exit_codes_are_0_or_the_code_the_role_returned()
    {
        var ok = Worker("ok", 50);
        var failing = Worker("failing", 50, exitCode: 7);
        Assert.Null(ok.Pid);
        Assert.Null(ok.ExitCode);
        ok.Start();
        failing.Start();
        Assert.NotNull(ok.Pid);
        Assert.True(await ok.JoinAsync(Boot));
        Assert.True(await failing.JoinAsync(Boot));
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(7, failing.ExitCode);
        Assert.False(ok.IsAlive);
        Assert.NotEqual(ok.Pid, failing.Pid);
    }

    [Fact]
    public async Task Join_with_a_timeout_returns_while_the_child_still_runs()
    {
        var process = await RunningWorkerAsync("sleeper");
        Assert.False(process.Join(TimeSpan.FromMilliseconds(200)));
        Assert.True(process.IsAlive);
        Assert.Null(process.ExitCode);
        Assert.Contains("started", process.ToString());
        process.Kill();
        Assert.True(await process.JoinAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Terminate_ends_with_minus_15()
    {
        var process = await RunningWorkerAsync("terminated");
        process.Terminate();
        Assert.True(await process.JoinAsync(TimeSpan.FromSeconds(15)));
        Assert.False(process.IsAlive);
        Assert.Equal(-15, process.ExitCode);
    }

    [Fact]
    public async Task Kill_ends_with_minus_9()
    {
        var process = await RunningWorkerAsync("killed");
        process.Kill();
        Assert.True(await process.JoinAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(-9, process.ExitCode);
        Assert.Contains("exitcode=-9", process.ToString());
    }

    [Fact]
    public async Task Daemon_after_start_start_twice_and_use_after_close_are_refused()
    {
        var process = Worker("strict", 50);
        process.Daemon = true;
        process.Start();
        Assert.Throws<InvalidOperationException>(() => process.Daemon = false);
        Assert.Throws<InvalidOperationException>(process.Start);
        Assert.Throws<InvalidOperationException>(process.Close);
        Assert.True(await process.JoinAsync(Boot));
        process.Close();
        Assert.Throws<ObjectDisposedException>(process.Start);
        Assert.Throws<ObjectDisposedException>(process.Kill);
    }

    [Fact]
    public void Join_before_start_is_refused()
    {
        var process = Worker("unstarted", 50);
        Assert.Throws<InvalidOperationException>(() => process.Join(TimeSpan.FromSeconds(1)));
        Assert.Contains("initial", process.ToString());
    }
}
