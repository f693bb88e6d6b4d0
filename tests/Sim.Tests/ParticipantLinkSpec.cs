using Akka.Actor;
using Akka.Configuration;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// A participant's blocking calls end with its link: at once when it is fenced (terminate), promptly when the
/// coordinator is lost, and when the caller cancels. Two actor systems over loopback, Sim's real configuration.
/// </summary>
public sealed class ParticipantLinkSpec() : TwoNodeSpec(FastWatch)
{
    // Remote DeathWatch tuned down from its ~12 s so that losing the coordinator is seen within a test's patience.
    private static readonly Config FastWatch = ConfigurationFactory.ParseString("""
        akka.remote.watch-failure-detector.heartbeat-interval = 200ms
        akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 1s
        akka.remote.watch-failure-detector.unreachable-nodes-reaper-interval = 200ms
        """);

    [Fact]
    public async Task A_fenced_participant_s_waiting_get_fails_at_once_and_it_sends_nothing_more()
    {
        await using var consumer = await ConnectAsync("consumer-1");
        var queue = await consumer.QueueAsync("q");
        var waiting = queue.GetAsync(); // no item will come: it would wait 24 h
        await Task.Delay(200);
        consumer.Fence();
        await Assert.ThrowsAsync<ParticipantFencedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<ParticipantFencedException>(() => queue.PutAsync("after fencing"));
        Assert.Equal(0, (await Coordinator.Link.AskAsync(queue.Ref, GetQueueStatus.Instance, TimeSpan.FromSeconds(5)) as QueueStatus)!.Size);
        // Its goodbye still goes out: the coordinator refuses it from then on.
        Assert.True(await consumer.LeaveAsync(-15, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Waiting_calls_fail_promptly_when_the_coordinator_is_lost()
    {
        await using var participant = await ConnectAsync("buyer-1");
        var queue = await participant.QueueAsync("q");
        var mutex = participant.Lock("tickets");
        await using var held = await mutex.AcquireAsync(TimeSpan.FromSeconds(5));
        var other = await ConnectAsync("buyer-2");
        var waitingForLock = other.Lock("tickets").AcquireAsync(TimeSpan.FromHours(1));
        var waitingForItem = queue.GetAsync();
        await Task.Delay(300);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await CoordinatorSystem.Terminate();
        await Assert.ThrowsAsync<CoordinatorLostException>(() => waitingForItem.WaitAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitingForLock.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        await Assert.ThrowsAsync<CoordinatorLostException>(() => queue.PutAsync("nobody there"));
        await other.DisposeAsync();
    }

    [Fact]
    public async Task A_caller_can_cancel_a_waiting_call()
    {
        await using var participant = await ConnectAsync("consumer-2");
        var queue = await participant.QueueAsync("q2");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.GetAsync(cancellationToken: cancel.Token));
        // The link is not ended by one caller's cancellation.
        await queue.PutAsync("still works");
        Assert.Equal("still works", (await queue.GetAsync(TimeSpan.FromSeconds(5))).AsText());
    }

    [Fact]
    public async Task A_failed_lookup_is_tried_again_not_remembered()
    {
        await using var participant = await ConnectAsync("buyer-3");
        // No ticket store yet: the lookup fails within its timeout.
        await Assert.ThrowsAsync<TimeoutException>(() => participant.TicketsAsync(TimeSpan.FromMilliseconds(500)));
        var folder = Directory.CreateTempSubdirectory("sim-link-").FullName;
        try
        {
            var db = Path.Combine(folder, "db.json");
            TicketFile.Create(db, 3);
            Coordinator.StartTicketStore(db);
            var tickets = await participant.TicketsAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(3, (await tickets.SearchAsync()).Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
