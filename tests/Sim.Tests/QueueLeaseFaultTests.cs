using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// A consumer of a joinable queue cut off from the coordinator, or stopped with SIGSTOP, while it holds items: with a delivery
/// lease its items go back to the queue for the others and nothing is missing or recorded twice; without one, join waits for
/// it. Real launcher, real consumer processes.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class QueueLeaseFaultTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-queue-lease-").FullName;

    private string Json => Path.Combine(_folder, "run.json");

    private static void AssertExactlyOnce(JsonElement root, int items, string stdout)
    {
        Assert.True(root.GetProperty("ok").GetBoolean(), stdout);
        var counts = root.GetProperty("items");
        Assert.Equal(items, counts.GetProperty("produced").GetInt32());
        Assert.Equal(items, counts.GetProperty("consumed").GetInt32());
        Assert.Equal(0, counts.GetProperty("missing").GetInt32());
        Assert.Equal(0, counts.GetProperty("duplicates").GetInt32());
        // The items it held went back: at least the one it was working on when it was cut off.
        Assert.True(counts.GetProperty("lease_expired").GetInt32() >= 1, stdout);
        Assert.True(counts.GetProperty("redelivered").GetInt32() >= counts.GetProperty("lease_expired").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
    }

    [Fact]
    public async Task A_consumer_cut_off_past_its_lease_loses_its_items_to_the_others_and_nothing_is_missing()
    {
        // Where the partition falls in the consumer's cycle (fetch, work, task_done) differs from run to run: repeated.
        foreach (var at in new[] { "0.4", "0.7", "1.0" })
        {
            var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "1", "--consumers", "2", "--items", "300",
                "--work-ms", "10", "--mode", "joinable", "--lease-ms", "800", "--partition", $"consumer-1@{at}:1.5", "--timeout", "60",
                "--json", Json);
            AssertExactlyOnce(root, 300, run.Stdout);
            Assert.Contains("the lease of", run.Stdout);
            Assert.Contains("held by consumer-1 ran out", run.Stdout);
            Assert.Contains("passed total queue q", run.Stdout);
        }
    }

    [Fact]
    public async Task A_consumer_paused_past_its_lease_loses_its_items_and_its_late_task_done_records_nothing()
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "1", "--consumers", "2", "--items", "300",
            "--work-ms", "10", "--mode", "joinable", "--lease-ms", "800", "--pause", "consumer-1@0.5:2", "--timeout", "60", "--json", Json);
        AssertExactlyOnce(root, 300, run.Stdout);
        Assert.Equal(800, root.GetProperty("lease_ms").GetInt32());
    }

    [Fact]
    public async Task A_lease_needs_a_joinable_queue()
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "prodcons", "--lease-ms", "500");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--lease-ms 500", run.Stderr);
        Assert.Contains("--mode joinable", run.Stderr);
        Assert.DoesNotContain("started", run.Stdout);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
