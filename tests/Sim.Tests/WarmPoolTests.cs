using System.Diagnostics;
using System.Text.Json;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The warm pool with real processes: a run on it uses the pool's booted nodes (their pids), its faults and exit
/// codes come through the pool server, the pool replaces what a run used, and stopping it leaves nothing behind.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class WarmPoolTests : IAsyncLifetime
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pool-").FullName;
    private readonly string? _previousSocket = Environment.GetEnvironmentVariable("SIM_POOL_SOCKET");

    private string Socket => Path.Combine(_folder, "pool.sock");
    private string Json => Path.Combine(_folder, "run.json");

    public Task InitializeAsync()
    {
        // Every sim this test starts inherits it: a pool of its own, not the user's.
        Environment.SetEnvironmentVariable("SIM_POOL_SOCKET", Socket);
        return Task.CompletedTask;
    }

    private async Task<JsonElement> StatusAsync()
    {
        var pool = await WarmPool.ConnectAsync(Socket);
        await using (pool)
            return JsonDocument.Parse((await pool.StatusAsync()).ToJsonString()).RootElement.Clone();
    }

    private static async Task OkAsync(params string[] args)
    {
        var run = await SimCli.RunAsync(HardTimeout, args);
        Assert.True(run.ExitCode == 0, $"sim {string.Join(' ', args)}: {run.Stdout}{run.Stderr}");
    }

    [Fact]
    public async Task A_run_on_the_pool_uses_its_booted_nodes_and_the_pool_replaces_them_afterwards()
    {
        await OkAsync("pool", "start", "--size", "3", "--wait");
        var before = await StatusAsync();
        Assert.Equal(3, before.GetProperty("idle").GetInt32());
        var booted = before.GetProperty("idle_pids").EnumerateArray().Select(p => p.GetInt32()).ToHashSet();

        var (_, root) = await SimCli.RunOkAsync(HardTimeout, Json, "counter", "--processes", "3", "--increments", "5", "--atomic", "--pool", "--json", Json);
        Assert.Equal(15, root.GetProperty("final").GetInt64());
        var used = root.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).ToHashSet();
        Assert.Equal(booted, used);
        Assert.All(root.GetProperty("processes").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());

        await OkAsync("pool", "wait");
        var after = await StatusAsync();
        Assert.Equal(3, after.GetProperty("idle").GetInt32());
        Assert.Equal(3, after.GetProperty("served").GetInt64());
        Assert.DoesNotContain(after.GetProperty("idle_pids").EnumerateArray().Select(p => p.GetInt32()), used.Contains);

        var server = after.GetProperty("pid").GetInt32();
        var idle = after.GetProperty("idle_pids").EnumerateArray().Select(p => p.GetInt32()).ToList();
        await OkAsync("pool", "stop");
        Assert.False(File.Exists(Socket));
        Assert.All(idle.Append(server), pid => Assert.False(IsRunning(pid), $"pid {pid} still runs after pool stop"));
    }

    [Fact]
    public async Task A_pooled_participant_killed_mid_run_is_reported_with_its_signal_and_the_lock_moves_on()
    {
        await OkAsync("pool", "start", "--size", "3", "--wait");
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, Json, "lock", "--processes", "3", "--acquires", "60", "--hold-ms", "20",
            "--kill", "holder@1", "--pool", "--json", Json);
        var processes = root.GetProperty("processes").EnumerateArray().ToList();
        Assert.Single(processes, p => p.GetProperty("exitcode").GetInt32() == -9);
        Assert.Equal(120, processes.Where(p => p.GetProperty("exitcode").GetInt32() == 0).Sum(p => p.GetProperty("acquires").GetInt64()));
    }

    [Fact]
    public async Task Pooled_participants_of_a_SIGKILLed_launcher_end_too_and_the_pool_refills()
    {
        await OkAsync("pool", "start", "--size", "3", "--wait");
        var booted = (await StatusAsync()).GetProperty("idle_pids").EnumerateArray().Select(p => p.GetInt32()).ToList();
        using var cli = SimCli.Start("tickets", "--buyers", "3", "--tickets", "3", "--delay-ms", "5000", "--pool", "--db",
            Path.Combine(_folder, "tickets.json"));
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(2));
        Assert.All(booted, pid => Assert.True(IsRunning(pid)));

        Signals.Send(cli.Pid, Signals.SIGKILL);
        await cli.WaitAsync(TimeSpan.FromSeconds(10));
        // Not the launcher's children: the pool server closes their stdin, and they end as started ones do.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (booted.Any(IsRunning) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.All(booted, pid => Assert.False(IsRunning(pid), $"pooled buyer pid {pid} outlived a SIGKILLed launcher"));
        await OkAsync("pool", "wait");
        Assert.Equal(3, (await StatusAsync()).GetProperty("idle").GetInt32());
    }

    [Fact]
    public async Task Without_a_pool_or_with_a_second_one_the_error_is_one_line_and_exit_code_2()
    {
        var missing = await SimCli.RunAsync(HardTimeout, "counter", "--processes", "2", "--pool");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no warm pool", Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        await OkAsync("pool", "start", "--size", "1");
        var second = await SimCli.RunAsync(HardTimeout, "pool", "start", "--size", "1");
        Assert.Equal(2, second.ExitCode);
        Assert.Contains("already running", Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        var lifecycle = await SimCli.RunAsync(HardTimeout, "lifecycle", "--pool");
        Assert.Equal(2, lifecycle.ExitCode);
    }

    private static bool IsRunning(int pid) =>
        ProcStat.Read(pid) is { } stat && stat.State is not ('Z' or 'X');

    public async Task DisposeAsync()
    {
        // Whatever happened, no pool survives the test: stopped, or else killed with every node it has.
        await PoolTeardown.RunAsync(Socket, []);
        Environment.SetEnvironmentVariable("SIM_POOL_SOCKET", _previousSocket);
        Directory.Delete(_folder, recursive: true);
    }
}
