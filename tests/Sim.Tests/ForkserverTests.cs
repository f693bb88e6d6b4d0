using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The forkserver start method (issue 17): the warm pool is started on first use, reused by the next run, and stops by
/// itself after its idle timeout, leaving no process behind.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ForkserverTests : IAsyncLifetime
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-fork-").FullName;
    private readonly HashSet<int> _seen = new();

    private string Socket => Path.Combine(_folder, "pool.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    private Dictionary<string, string> Environment(string? method = null, int idleSeconds = 8)
    {
        var environment = new Dictionary<string, string>
        {
            ["SIM_POOL_SOCKET"] = Socket,
            [StartMethods.IdleTimeoutVariable] = idleSeconds.ToString(),
        };
        if (method is not null)
            environment[StartMethods.Variable] = method;
        return environment;
    }

    private async Task<JsonElement> RunCounterAsync(string json, Dictionary<string, string> environment, params string[] extra)
    {
        var run = await SimWithEnv.RunAsync(HardTimeout, environment,
            ["counter", "--processes", "3", "--increments", "1", "--atomic", "--json", json, .. extra]);
        Assert.True(run.ExitCode == 0, $"sim counter: exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.Clone();
        _seen.UnionWith(root.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()));
        return root;
    }

    private async Task<JsonObject> StatusAsync()
    {
        await using var pool = await WarmPool.ConnectAsync(Socket);
        var status = await pool.StatusAsync();
        _seen.Add(status["pid"]!.GetValue<int>());
        return status;
    }

    [Fact]
    public async Task Forkserver_starts_the_pool_on_first_use_reuses_it_and_the_idle_pool_stops_by_itself()
    {
        Assert.False(File.Exists(Socket));
        var first = await SimWithEnv.RunAsync(HardTimeout, Environment(),
            "counter", "--processes", "3", "--increments", "1", "--atomic", "--start-method", "forkserver", "--json", Path.Combine(_folder, "1.json"));
        Assert.True(first.ExitCode == 0, $"first run: exit {first.ExitCode}: {first.Stdout}{first.Stderr}");
        Assert.Contains("forkserver: started a warm pool of 3 nodes", first.Stdout);
        var server = (await StatusAsync())["pid"]!.GetValue<int>();

        // The run's nodes are replaced once it ended; the second run (start method from the environment) gets booted ones.
        var full = await WarmPool.WaitFullAsync(Socket);
        var booted = full["idle_pids"]!.AsArray().Select(p => p!.GetValue<int>()).ToHashSet();
        _seen.UnionWith(booted);
        Assert.Equal(3, booted.Count);
        var second = await RunCounterAsync(Path.Combine(_folder, "2.json"), Environment("forkserver"));
        Assert.Equal(3, second.GetProperty("final").GetInt64());
        Assert.Equal(booted, second.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).ToHashSet());
        Assert.Equal(server, (await StatusAsync())["pid"]!.GetValue<int>());

        // Nobody connected for the idle timeout (8 s): the server stops by itself, its nodes with it.
        var clock = Stopwatch.StartNew();
        Assert.True(await WarmPool.AwaitServerExitAsync(server, TimeSpan.FromSeconds(40)), $"pool server pid {server} still runs 40 s after its last use");
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(4), $"the pool stopped {clock.Elapsed.TotalSeconds:0.0} s after its last use, before its idle timeout");
        Assert.False(File.Exists(Socket));
        var deadline = Stopwatch.StartNew();
        while (_seen.Any(ProcFs.IsRunning) && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(100);
        Assert.All(_seen, pid => Assert.False(ProcFs.IsRunning(pid), $"pid {pid} still runs after the pool stopped"));
    }

    [Fact]
    public async Task Spawn_from_the_environment_starts_no_pool()
    {
        var root = await RunCounterAsync(Path.Combine(_folder, "spawn.json"), Environment("spawn"));
        Assert.Equal(3, root.GetProperty("final").GetInt64());
        Assert.False(File.Exists(Socket));
    }

    [Theory]
    [InlineData("fork")]
    [InlineData("")]
    public async Task A_bad_start_method_option_is_one_line_and_exit_2(string value)
    {
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(1), Environment(), "counter", "--processes", "2", "--start-method", value);
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("--start-method", run.Stderr);
        Assert.False(File.Exists(Socket));
    }

    [Fact]
    public async Task A_bad_start_method_in_the_environment_is_one_line_and_exit_2()
    {
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(1), Environment("vfork"), "counter", "--processes", "2");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("sim: SIM_START_METHOD 'vfork' is not a start method (spawn or forkserver)", run.Stderr.Trim());
    }

    [Fact]
    public async Task Pool_with_start_method_spawn_is_a_usage_error()
    {
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(1), Environment(), "counter", "--pool", "--start-method", "spawn");
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    public async Task DisposeAsync()
    {
        await PoolTeardown.RunAsync(Socket, _seen);
        Directory.Delete(_folder, recursive: true);
    }
}
