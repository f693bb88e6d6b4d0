using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>Mutual exclusion under contention with real processes: every grant accounted for, a killed holder passes the lock on.</summary>
[Collection(ProcessTests.Name)]
public sealed class LockScenarioTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-lock-").FullName;

    private string Json => Path.Combine(_folder, "run.json");

    [Fact]
    public async Task Contending_processes_get_every_grant_once_in_token_order()
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "lock", "--processes", "3", "--acquires", "40", "--json", Json);
        Assert.Equal(120, root.GetProperty("grants").GetInt64());
        Assert.True(root.GetProperty("tokens_in_sequence").GetBoolean());
        Assert.True(root.GetProperty("handoffs_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("acquire_us_median").GetDouble() > 0);
        Assert.Equal(3, root.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).Distinct().Count());
    }

    [Fact]
    public async Task Warm_up_acquires_are_grants_too_and_only_the_timed_ones_are_reported_per_process()
    {
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, Json, "lock", "--processes", "2", "--acquires", "30", "--warmup", "20", "--json", Json);
        Assert.Equal(100, root.GetProperty("grants").GetInt64());
        Assert.True(root.GetProperty("tokens_in_sequence").GetBoolean());
        Assert.Equal(20, root.GetProperty("warmup_acquires").GetInt32());
        Assert.All(root.GetProperty("processes").EnumerateArray(), p => Assert.Equal(30, p.GetProperty("acquires").GetInt64()));
        Assert.True(root.GetProperty("handoffs_per_s").GetDouble() > 0);
    }

    [Fact]
    public async Task Killing_the_holder_passes_the_lock_to_the_others()
    {
        // Each grant is held 20 ms: 3 x 60 grants take seconds, so the kill at 1 s lands on a holder mid-run.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "lock", "--processes", "3", "--acquires", "60", "--hold-ms", "20",
            "--kill", "holder@1", "--json", Json);
        var processes = root.GetProperty("processes").EnumerateArray().ToList();
        var killed = Assert.Single(processes, p => p.GetProperty("exitcode").GetInt32() == -9);
        Assert.Equal(2, processes.Count(p => p.GetProperty("exitcode").GetInt32() == 0));
        // The survivors finished all their grants: the killed holder's grant was taken back, not stranded.
        Assert.Equal(120, processes.Where(p => p.GetProperty("exitcode").GetInt32() == 0).Sum(p => p.GetProperty("acquires").GetInt64()));
        Assert.Equal(JsonValueKind.Array, root.GetProperty("faults").ValueKind);
        Assert.NotEqual("", killed.GetProperty("name").GetString());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
