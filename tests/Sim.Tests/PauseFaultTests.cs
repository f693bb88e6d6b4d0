using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// A lock holder stopped with SIGSTOP while it holds the lock (a long GC, a stalled VM) or cut off from the coordinator:
/// with a lease the others go on without it and its late write is refused; without one they wait for it. Real launcher,
/// real buyer processes.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class PauseFaultTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pause-").FullName;

    private string Json => Path.Combine(_folder, "run.json");
    private string Db => Path.Combine(_folder, "tickets.json");

    [Fact]
    public async Task A_holder_paused_past_its_lease_loses_the_lock_and_its_late_write_is_refused()
    {
        // The holder stops 0.3 s into its 1 s turn, after its read and before its write. Repeated, since where exactly it
        // stops differs from run to run.
        for (var i = 0; i < 3; i++)
        {
            File.Delete(Db);
            var (_, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "4", "--tickets", "3", "--delay-ms", "1000",
                "--pause", "holder@0.3:3", "--lease-ms", "500", "--db", Db, "--json", Json);
            Assert.True(root.GetProperty("ok").GetBoolean());
            var fault = Assert.Single(root.GetProperty("faults").EnumerateArray().ToList());
            Assert.Equal("pause", fault.GetProperty("action").GetString());
            var victim = fault.GetProperty("name").GetString()!;
            var pausedAt = fault.GetProperty("at_s").GetDouble();
            Assert.Equal("paused for 3 s", fault.GetProperty("note").GetString());

            var expiry = Assert.Single(root.GetProperty("lease_expiries").EnumerateArray().ToList());
            Assert.Equal(victim, expiry.GetProperty("holder").GetString());
            // The lock passed on within its lease (plus scheduling on a busy machine), not after the 3 s pause.
            Assert.InRange(expiry.GetProperty("at_s").GetDouble(), pausedAt, pausedAt + 0.5 + 1.5);

            var tickets = root.GetProperty("tickets");
            Assert.Equal(1, tickets.GetProperty("refused_writes").GetInt32());
            Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
            var processes = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.Equal(1, processes[victim].GetProperty("rejected").GetInt32());
            Assert.False(processes[victim].GetProperty("bought").GetBoolean());
            Assert.All(processes.Values, p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
            // The others were served while it stood still: their grants have higher tokens than its own.
            var victimToken = processes[victim].GetProperty("token").GetInt64();
            Assert.All(processes.Values.Where(p => p.GetProperty("name").GetString() != victim),
                p => Assert.True(p.GetProperty("token").GetInt64() > victimToken));
            using var file = JsonDocument.Parse(File.ReadAllText(Db));
            Assert.Equal(0, file.RootElement.GetProperty("count").GetInt32());
            Assert.Equal(0, root.GetProperty("zombies").GetInt32());
            Assert.Equal(0, root.GetProperty("orphans").GetInt32());
        }
    }

    [Fact]
    public async Task Without_a_lease_everyone_waits_for_the_paused_holder_and_nothing_is_refused()
    {
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "3", "--tickets", "3", "--delay-ms", "200",
            "--pause", "holder@0.1:1.5", "--db", Db, "--json", Json);
        Assert.True(root.GetProperty("ok").GetBoolean());
        var fault = Assert.Single(root.GetProperty("faults").EnumerateArray().ToList());
        Assert.Equal("paused for 1.5 s", fault.GetProperty("note").GetString());
        Assert.False(root.TryGetProperty("lease_expiries", out _));
        var tickets = root.GetProperty("tickets");
        Assert.Equal(0, tickets.GetProperty("refused_writes").GetInt32());
        Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
        // Nobody else got the lock during the pause: the work took at least the pause.
        Assert.True(root.GetProperty("timing").GetProperty("work_s").GetDouble() >= 1.5);
    }

    [Fact]
    public async Task A_holder_cut_off_past_its_lease_loses_the_lock_and_the_others_go_on()
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "4", "--tickets", "3", "--delay-ms", "1000",
            "--partition", "holder@0.3:2", "--lease-ms", "500", "--db", Db, "--json", Json);
        Assert.True(root.GetProperty("ok").GetBoolean(), run.Stdout);
        var fault = Assert.Single(root.GetProperty("faults").EnumerateArray().ToList());
        Assert.Equal("partition", fault.GetProperty("action").GetString());
        Assert.Equal("cut off for 2 s", fault.GetProperty("note").GetString());
        var victim = fault.GetProperty("name").GetString()!;
        var expiry = Assert.Single(root.GetProperty("lease_expiries").EnumerateArray().ToList());
        Assert.Equal(victim, expiry.GetProperty("holder").GetString());
        Assert.InRange(expiry.GetProperty("at_s").GetDouble(), 0.3, 0.3 + 0.5 + 1.5);
        Assert.Contains($"heal {victim}", run.Stdout);
        // The others sold every ticket; whatever the cut-off holder sent while cut off was lost, and nothing it sent
        // after the heal could land: the file is consistent.
        var tickets = root.GetProperty("tickets");
        Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
        Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
        Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
        using var file = JsonDocument.Parse(File.ReadAllText(Db));
        Assert.Equal(0, file.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
    }

    [Theory]
    [InlineData("--partition", "buyer-1@1:x", "'x'")]
    [InlineData("--pause", "buyer-1@1:0", "'0'")]
    [InlineData("--pause", "buyer-1@soon", "'soon'")]
    [InlineData("--pause", "nobody@1", "'nobody'")]
    [InlineData("--lease-ms", "-5", "-5")]
    public async Task Bad_pause_or_lease_is_a_usage_error_naming_the_value(string option, string value, string named)
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "tickets", "--buyers", "2", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.DoesNotContain("started", run.Stdout);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
