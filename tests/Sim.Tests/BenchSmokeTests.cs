using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>The benchmark's plumbing, at a tiny size: figures only mean something from `sim bench` itself.</summary>
[Collection(ProcessTests.Name)]
public sealed class BenchSmokeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-bench-").FullName;

    [Fact]
    public async Task Bench_runs_sim_and_python_side_by_side_and_writes_the_figures()
    {
        var json = Path.Combine(_folder, "bench.json");
        var (run, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(3), json, "bench", "pipe-rtt", "--runs", "1", "--scale", "0.02", "--json", json);
        var workload = Assert.Single(root.GetProperty("workloads").EnumerateArray());
        Assert.Equal("pipe-rtt", workload.GetProperty("name").GetString());
        Assert.True(workload.GetProperty("sim").GetProperty("median").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Object, workload.GetProperty("python").ValueKind);
        Assert.True(workload.GetProperty("ratio").GetDouble() > 0);
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
