using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>A long-lived coordinator serving waves of short-lived participants: real processes, one coordinator.</summary>
[Collection(ProcessTests.Name)]
public sealed class WavesScenarioTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-waves-").FullName;

    [Fact]
    public async Task Every_wave_is_served_and_every_grant_accounted_for()
    {
        var json = Path.Combine(_folder, "waves.json");
        var (run, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(4), json, "waves", "--waves", "3", "--size", "4", "--acquires", "3", "--json", json);
        Assert.True(root.GetProperty("ok").GetBoolean(), run.Stdout);
        var waves = root.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(3, waves.Count);
        Assert.All(waves, w => Assert.Equal(4, w.GetProperty("served").GetInt32()));
        Assert.All(waves, w => Assert.True(w.GetProperty("coordinator_rss_mb").GetDouble() > 0));
        Assert.Equal(12, root.GetProperty("participants").GetInt32());
        Assert.Equal(36, root.GetProperty("grants").GetInt64());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
    }

    [Theory]
    [InlineData("--waves", "0")]
    [InlineData("--size", "many")]
    public async Task Bad_sizes_are_usage_errors(string option, string value)
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "waves", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(value, run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
