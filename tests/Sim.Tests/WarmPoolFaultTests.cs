using System.Diagnostics;
using System.Text.Json;
using System.Runtime.Versioning;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The warm pool under faults, with real processes: stopping it mid-run lets the run finish; its server killed
/// mid-run ends the run in seconds; nodes that die while booting are restarted with a growing pause; a claim
/// beyond the per-run cap is refused.
/// </summary>
[Collection(ProcessTests.Name)]
[UnsupportedOSPlatform("windows")] // Unix sockets, modes, uids and /proc
public sealed class WarmPoolFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pool-fault-").FullName;
    private readonly HashSet<int> _seen = new();

    private string Socket => Path.Combine(_folder, "pool.sock");
    private string Json => Path.Combine(_folder, "run.json");
    private Dictionary<string, string> Env => new() { ["SIM_POOL_SOCKET"] = Socket };

    private readonly string? _previousSocket = Environment.GetEnvironmentVariable("SIM_POOL_SOCKET");

    public Task InitializeAsync()
    {
        // Runs started through SimCli inherit it: a pool of this test's own (as in WarmPoolTests).
        Environment.SetEnvironmentVariable("SIM_POOL_SOCKET", Socket);
        return Task.CompletedTask;
    }

    private async Task<JsonElement> StatusAsync()
    {
        await using var pool = await WarmPool.ConnectAsync(Socket);
        var status = JsonDocument.Parse((await pool.StatusAsync()).ToJsonString()).RootElement.Clone();
        _seen.Add(status.GetProperty("pid").GetInt32());
        foreach (var key in new[] { "idle_pids", "booting_pids", "claimed_pids" })
            _seen.UnionWith(status.GetProperty(key).EnumerateArray().Select(p => p.GetInt32()));
        return status;
    }

    private async Task<CliResult> SimAsync(params string[] args) => await SimWithEnv.RunAsync(HardTimeout, Env, args);

    private async Task OkAsync(params string[] args)
    {
        var run = await SimAsync(args);
        Assert.True(run.ExitCode == 0, $"sim {string.Join(' ', args)}: {run.Stdout}{run.Stderr}");
    }

    /// <summary>A stand-in for Sim.Node (SIM_NODE): a shell script, so a test can make nodes that never boot.</summary>
    private string FakeNode(string body)
    {
        var path = Path.Combine(_folder, $"node-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task AwaitGoneAsync(IEnumerable<int> pids, TimeSpan timeout, string what)
    {
        var list = pids.ToList();
        var deadline = DateTime.UtcNow + timeout;
        while (list.Any(ProcFs.IsRunning) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.All(list, pid => Assert.False(ProcFs.IsRunning(pid), $"{what}: pid {pid} still runs after {timeout.TotalSeconds} s"));
    }

    [Fact]
    public async Task Pool_stop_mid_run_refuses_new_work_lets_the_run_finish_and_then_the_server_and_nodes_are_gone()
    {
        await OkAsync("pool", "start", "--size", "4", "--wait");
        var server = (await StatusAsync()).GetProperty("pid").GetInt32();
        // A launcher that connected before the stop but claims after it.
        var late = await WarmPool.ConnectAsync(Socket);

        using var cli = SimCli.Start("counter", "--processes", "3", "--increments", "100", "--delay-ms", "20", "--timeout", "60",
            "--pool", "--json", Json);
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(1));
        var status = await StatusAsync();
        var claimed = status.GetProperty("claimed_pids").EnumerateArray().Select(p => p.GetInt32()).ToList();
        var idle = status.GetProperty("idle_pids").EnumerateArray().Select(p => p.GetInt32()).ToList();
        Assert.Equal(3, claimed.Count);

        var stop = await SimAsync("pool", "stop");
        Assert.True(stop.ExitCode == 0, stop.Stdout + stop.Stderr);
        Assert.Contains("waiting for 1 run(s) using 3 node(s)", stop.Stdout.ReplaceLineEndings(" "));
        Assert.True(claimed.All(ProcFs.IsRunning), "the stop ended nodes in use");

        // No new connections, no new claims; the idle node ends.
        var status2 = await SimAsync("pool", "status");
        Assert.Equal(2, status2.ExitCode);
        var refused = await Assert.ThrowsAsync<UsageException>(() =>
            late.ClaimAsync([new SimProcess("late-1", "counter", "/bin/false", [])]));
        Assert.Contains("stopping", refused.Message);
        await AwaitGoneAsync(idle, TimeSpan.FromSeconds(15), "idle node after stop");

        var run = await cli.WaitAsync(HardTimeout);
        Assert.True(run.ExitCode == 0, run.Stdout);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(Json)))
        {
            Assert.Equal(300, doc.RootElement.GetProperty("final").GetInt64());
            Assert.All(doc.RootElement.GetProperty("processes").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
            Assert.Equal(claimed.ToHashSet(), doc.RootElement.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).ToHashSet());
        }
        await late.DisposeAsync();
        await AwaitGoneAsync(claimed.Append(server), TimeSpan.FromSeconds(30), "after the run on a stopped pool");
        Assert.False(File.Exists(Socket));
    }

    [Fact]
    public async Task A_run_whose_pool_server_is_SIGKILLed_ends_within_seconds_with_one_line_and_its_nodes_end()
    {
        await OkAsync("pool", "start", "--size", "3", "--wait");
        var server = (await StatusAsync()).GetProperty("pid").GetInt32();
        using var cli = SimCli.Start("counter", "--processes", "3", "--increments", "1000", "--delay-ms", "20", "--timeout", "100",
            "--pool", "--json", Json);
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(1));
        var nodes = ProcFs.ChildrenOf(server);
        Assert.Equal(3, nodes.Count);
        _seen.UnionWith(nodes);

        Signals.Send(server, Signals.SIGKILL);
        var clock = Stopwatch.StartNew();
        // The run's own timeout is 100 s; it must not be what ends it.
        var run = await cli.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"the run took {clock.Elapsed.TotalSeconds:0.0} s to end after its pool server died");
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"warm pool server (pid {server}) went away mid-run", line);
        Assert.False(File.Exists(Json), "a run ended by its pool's death wrote results");
        // They lost their stdin with the server and ended by themselves (nobody of ours signalled them).
        await AwaitGoneAsync(nodes, TimeSpan.FromSeconds(10), "pooled participant of a dead pool server");
    }

    [Fact]
    public async Task Nodes_that_die_while_booting_are_restarted_with_a_growing_pause_and_status_and_wait_say_why()
    {
        var starts = Path.Combine(_folder, "starts");
        var env = new Dictionary<string, string>(Env) { ["SIM_NODE"] = FakeNode($"echo x >> {starts}\necho 'boom: no runtime here' >&2\nexit 1") };
        var start = await SimWithEnv.RunAsync(HardTimeout, env, "pool", "start", "--size", "3");
        Assert.True(start.ExitCode == 0, start.Stdout + start.Stderr);
        await Task.Delay(TimeSpan.FromSeconds(4));

        // Without a pause this is hundreds of starts a second; with it: 3, then 1 after 1 s, 2 s, 4 s ...
        var count = File.ReadAllLines(starts).Length;
        Assert.InRange(count, 3, 10);
        var status = await StatusAsync();
        Assert.True(status.GetProperty("boot_failures").GetInt32() >= 3);
        Assert.Contains("boom: no runtime here", status.GetProperty("last_failure").GetString());
        Assert.Contains("before it was ready", status.GetProperty("last_failure").GetString());
        // 0 while the one retry boots; otherwise the pause left.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (status.GetProperty("restart_in_ms").GetInt64() == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            status = await StatusAsync();
        }
        Assert.True(status.GetProperty("restart_in_ms").GetInt64() > 0, "status shows no pause before the next start");

        var shown = await SimAsync("pool", "status");
        Assert.Contains("keep dying", shown.Stdout);
        var clock = Stopwatch.StartNew();
        var wait = await SimAsync("pool", "wait");
        Assert.Equal(1, wait.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "pool wait waited on for a pool that cannot fill");
        Assert.Contains("does not fill", Assert.Single(wait.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        await OkAsync("pool", "stop");
    }

    [Fact]
    public async Task A_claim_beyond_the_per_run_cap_is_refused_as_a_usage_error_and_starts_nothing()
    {
        // Nodes that never boot and end when their stdin closes: cheap enough to survive the old code's 501 starts.
        var env = new Dictionary<string, string>(Env) { ["SIM_NODE"] = FakeNode("exec cat > /dev/null") };
        var start = await SimWithEnv.RunAsync(HardTimeout, env, "pool", "start", "--size", "1");
        Assert.True(start.ExitCode == 0, start.Stdout + start.Stderr);
        var before = (await StatusAsync()).GetProperty("started").GetInt64();

        await using (var pool = await WarmPool.ConnectAsync(Socket))
        {
            var processes = Enumerable.Range(1, 501).Select(i => new SimProcess($"p-{i}", "counter", "/bin/false", [])).ToList();
            var refused = await Assert.ThrowsAsync<UsageException>(() => pool.ClaimAsync(processes));
            Assert.Contains("at most 500 nodes", refused.Message);
            Assert.DoesNotContain('\n', refused.Message);
        }
        var after = await StatusAsync();
        Assert.Equal(0, after.GetProperty("claimed").GetInt32());
        Assert.Equal(before, after.GetProperty("started").GetInt64());
        Assert.Equal(500, after.GetProperty("max_claim").GetInt32());
    }

    public async Task DisposeAsync()
    {
        await PoolTeardown.RunAsync(Socket, _seen);
        Environment.SetEnvironmentVariable("SIM_POOL_SOCKET", _previousSocket);
        Directory.Delete(_folder, recursive: true);
    }
}
