using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 4: Event, as Python's.</summary>
public sealed class EventSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly IActorRef _manager;

    public EventSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimEvent Event(string who, IActorRef? session = null) => new(_manager, "go", ClientLink.Local(who), session ?? CreateTestProbe().Ref);

    [Fact]
    public async Task Set_wakes_every_waiter_at_once_with_true_and_clear_lowers_the_flag()
    {
        var waits = Enumerable.Range(0, 5).Select(i => Event($"w{i}").WaitAsync(Wait)).ToList();
        var starter = Event("starter");
        await AwaitAssertAsync(async () => Assert.Equal(5, (await starter.StateAsync()).Waiting));
        Assert.False(await starter.IsSetAsync());
        Assert.Equal(5, await starter.SetAsync());
        Assert.All(await Task.WhenAll(waits), Assert.True);
        Assert.True(await starter.IsSetAsync());
        Assert.True(await Event("late").WaitAsync(TimeSpan.Zero));
        await starter.ClearAsync();
        Assert.False(await starter.IsSetAsync());
        Assert.Equal("Event(name=go, owner=starter, set=no)", starter.ToString());
    }

    [Fact]
    public async Task Wait_times_out_with_false()
    {
        var started = DateTime.UtcNow;
        Assert.False(await Event("w").WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(190));
        Assert.False(await Event("w").WaitAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Set_then_clear_at_once_still_wakes_the_waiters_with_true()
    {
        var waiting = Event("w").WaitAsync(Wait);
        var starter = Event("starter");
        await AwaitAssertAsync(async () => Assert.Equal(1, (await starter.StateAsync()).Waiting));
        await starter.SetAsync();
        await starter.ClearAsync();
        Assert.True(await waiting);
    }

    [Fact]
    public async Task A_dead_waiter_leaves_the_queue_and_bad_input_is_refused()
    {
        _ = Event("dead").WaitAsync(Wait);
        var other = Event("other");
        await AwaitAssertAsync(async () => Assert.Equal(1, (await other.StateAsync()).Waiting));
        Sys.EventStream.Publish(new ParticipantExited("dead", -9));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await other.StateAsync()).Waiting));
        Assert.Equal(0, await other.SetAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => Event("w").WaitAsync(TimeSpan.FromDays(2)));
        Assert.Throws<ArgumentException>(() => new SimEvent(_manager, " ", ClientLink.Local("w"), TestActor));
    }
}
