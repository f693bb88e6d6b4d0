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

    /// <summary>Exactly once, and every item whose lease ran out went to another; returns how many ran out.</summary>
    private static int AssertExactlyOnce(JsonElement root, int items, string stdout)
    {
        Assert.True(root.GetProperty("ok").GetBoolean(), stdout);
        var counts = root.GetProperty("items");
        Assert.Equal(items, counts.GetProperty("produced").GetInt32());
        Assert.Equal(items, counts.GetProperty("consumed").GetInt32());
        Assert.Equal(0, counts.GetProperty("missing").GetInt32());
        Assert.Equal(0, counts.GetProperty("duplicates").GetInt32());
        var expired = counts.GetProperty("lease_expired").GetInt32();
        Assert.True(counts.GetProperty("redelivered").GetInt32() >= expired, stdout);
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
        return expired;
    }

    // A fault that falls after a consumer's task_done reached the queue and before its next get did leaves it holding
    // nothing, and no lease runs out (seen once in a full test run: the partition came 3 ms before the task_done, which
    // still got through, and the get did not). Each test makes its fault fall at several points of the consumer's cycle;
    // the items held at one of them at least must go back.

    [Fact]
    public async Task A_consumer_cut_off_past_its_lease_loses_its_items_to_the_others_and_nothing_is_missing()
    {
        // Where the partition falls in the consumer's cycle (fetch, work, task_done) differs from run to run: repeated.
        var withExpiry = 0;
        foreach (var at in new[] { "0.4", "0.7", "1.0" })
        {
            var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "1", "--consumers", "2", "--items", "300",
                "--work-ms", "10", "--mode", "joinable", "--lease-ms", "800", "--partition", $"consumer-1@{at}:1.5", "--timeout", "60",
                "--json", Json);
            if (AssertExactlyOnce(root, 300, run.Stdout) > 0)
            {
                withExpiry++;
                Assert.Contains("the lease of", run.Stdout);
                Assert.Contains("held by consumer-1 ran out", run.Stdout);
            }
            Assert.Contains("passed total queue q", run.Stdout);
        }
        Assert.True(withExpiry >= 1, "no lease ran out in any of the three partitions");
    }

    [Fact]
    public async Task A_consumer_paused_past_its_lease_loses_its_items_and_its_late_task_done_records_nothing()
    {
        var withExpiry = 0;
        foreach (var at in new[] { "0.5", "0.8" })
        {
            var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "1", "--consumers", "2", "--items", "300",
                "--work-ms", "10", "--mode", "joinable", "--lease-ms", "800", "--pause", $"consumer-1@{at}:2", "--timeout", "60", "--json", Json);
            if (AssertExactlyOnce(root, 300, run.Stdout) > 0)
                withExpiry++;
            Assert.Equal(800, root.GetProperty("lease_ms").GetInt32());
        }
        Assert.True(withExpiry >= 1, "no lease ran out in either pause");
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
