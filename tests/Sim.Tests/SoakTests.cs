using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary><c>sim soak</c>: random scenarios and faults with real processes; every run's checks hold; a seed replays its runs.</summary>
[Collection(ProcessTests.Name)]
public sealed class SoakTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-soak-test-").FullName;

    [Fact]
    public async Task A_short_soak_with_a_fixed_seed_finds_no_violation_and_its_seed_replays_the_same_runs()
    {
        var json = Path.Combine(_folder, "soak.json");
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(6), "soak", "--minutes", "2", "--seed", "20261127", "--json", json);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("seed 20261127", run.Stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal(0, root.GetProperty("violations").GetInt32());
        var runs = root.GetProperty("all").EnumerateArray().ToList();
        Assert.True(runs.Count >= 2, run.Stdout);
        Assert.True(runs.Sum(r => r.GetProperty("faults").GetArrayLength()) > 0, "a soak without a single fault proves nothing: " + run.Stdout);

        // The same seed plans the same runs (scenarios, sizes, faults) again.
        var plan = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "soak", "--seed", "20261127", "--dry-run", runs.Count.ToString());
        Assert.Equal(0, plan.ExitCode);
        var planned = plan.Stdout.Split('\n').Where(l => l.StartsWith("run ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..].Trim()).ToList();
        Assert.Equal(runs.Select(r => r.GetProperty("what").GetString()), planned);
    }

    [Theory]
    [InlineData("--minutes", "0")]
    [InlineData("--seed", "abc")]
    public async Task Bad_soak_options_are_usage_errors(string option, string value)
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "soak", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(value, run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
