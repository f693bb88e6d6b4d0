using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>The benchmark's plumbing, at a tiny size: figures only mean something from `sim bench` itself.</summary>
[Collection(ProcessTests.Name)]
public sealed class BenchSmokeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-bench-").FullName;

    /// <summary>One run of <c>sim bench FIGURE</c> at a tiny scale; its one workload's JSON.</summary>
    private async Task<JsonElement> BenchAsync(string figure)
    {
        var json = Path.Combine(_folder, "bench.json");
        var (_, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(3), json, "bench", figure, "--runs", "1", "--scale", "0.02", "--json", json);
        return Assert.Single(root.GetProperty("workloads").EnumerateArray());
    }

    [Fact]
    public async Task Bench_runs_sim_and_python_side_by_side_and_writes_the_figures()
    {
        var workload = await BenchAsync("pipe-rtt");
        Assert.Equal("pipe-rtt", workload.GetProperty("name").GetString());
        Assert.True(workload.GetProperty("sim").GetProperty("median").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Object, workload.GetProperty("python").ValueKind);
        Assert.True(workload.GetProperty("ratio").GetDouble() > 0);
        // The floor: plain Akka.NET's round trip, measured in the same run.
        Assert.Equal("round_trip", workload.GetProperty("raw_akka_pattern").GetString());
        var raw = workload.GetProperty("raw_akka").GetProperty("median").GetDouble();
        Assert.True(raw > 0);
        Assert.True(workload.GetProperty("raw_akka_p99").GetProperty("median").GetDouble() >= raw);
        Assert.True(workload.GetProperty("ratio_to_raw_akka").GetDouble() > 0);
    }

    [Fact]
    public async Task The_uncontended_acquire_is_compared_with_plain_Akka_doing_request_grant_release()
    {
        var workload = await BenchAsync("lock-acquire-uncontended");
        Assert.Equal("lock_acquire", workload.GetProperty("raw_akka_pattern").GetString());
        Assert.True(workload.GetProperty("raw_akka").GetProperty("median").GetDouble() > 0);
        Assert.True(workload.GetProperty("ratio_to_raw_akka").GetDouble() > 0);
    }

    [Fact]
    public async Task Contended_handoffs_are_compared_with_plain_Akka_lockers_in_processes_of_their_own()
    {
        var workload = await BenchAsync("lock-handoffs");
        Assert.Equal("lock_handoffs", workload.GetProperty("raw_akka_pattern").GetString());
        Assert.True(workload.GetProperty("raw_akka").GetProperty("median").GetDouble() > 0);
        // A rate: no p99 of it.
        Assert.Equal(JsonValueKind.Null, workload.GetProperty("raw_akka_p99").ValueKind);
        Assert.True(workload.GetProperty("ratio_to_raw_akka").GetDouble() > 0);
    }

    [Fact]
    public async Task Idle_participants_CPU_is_measured_for_Sim_and_for_Python()
    {
        var workload = await BenchAsync("idle");
        Assert.Equal("idle-cpu-per-participant", workload.GetProperty("name").GetString());
        Assert.Equal("absolute", workload.GetProperty("target_of").GetString());
        // A percentage of one core per process: at most every core of the machine.
        Assert.InRange(workload.GetProperty("sim").GetProperty("median").GetDouble(), 0, 100 * Environment.ProcessorCount);
        Assert.InRange(workload.GetProperty("python").GetProperty("median").GetDouble(), 0, 100 * Environment.ProcessorCount);
        Assert.Equal(JsonValueKind.Null, workload.GetProperty("raw_akka").ValueKind);
    }

    /// <summary>
    /// The bench's start-up group as `sim bench all` runs it: cold runs, then the forkserver's first run starts a pool
    /// (this sequence once ended as "interrupted"), then a timed run on the full pool; CPU per participant at start too.
    /// </summary>
    [Fact]
    public async Task Startup_runs_cold_then_with_forkserver_and_measures_CPU_per_participant_start()
    {
        var json = Path.Combine(_folder, "bench.json");
        var (_, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(4), json, "bench", "startup", "--runs", "1", "--scale", "0.06", "--json", json);
        var figures = root.GetProperty("workloads").EnumerateArray().ToDictionary(w => w.GetProperty("name").GetString()!);
        var cpu = figures["cpu-per-participant-start"];
        Assert.InRange(cpu.GetProperty("sim").GetProperty("median").GetDouble(), 0.01, 60);
        Assert.InRange(cpu.GetProperty("python").GetProperty("median").GetDouble(), 0.001, 60);
        var forkserver = figures["startup-50-forkserver"];
        Assert.True(forkserver.GetProperty("sim").GetProperty("median").GetDouble() > 0);
        Assert.Equal("startup-50", forkserver.GetProperty("python_runs_of").GetString());
    }

    [Fact]
    public async Task An_unknown_workload_is_a_usage_error()
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "bench", "warp-drive");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("warp-drive", run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
