using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 1: Semaphore and BoundedSemaphore as Python's, on the lock manager's one mechanism.</summary>
public sealed class SemaphoreSpec : SimSpec
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly IActorRef _manager;

    public SemaphoreSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimSemaphore Semaphore(string who, int value, string name = "sem") =>
        new(_manager, name, value, ClientLink.Local(who), CreateTestProbe().Ref);

    private SimBoundedSemaphore Bounded(string who, int value, string name = "sem") =>
        new(_manager, name, value, ClientLink.Local(who), CreateTestProbe().Ref);

    [Fact]
    public async Task A_semaphore_of_value_0_signals_a_waiter_released_by_another_participant()
    {
        var consumer = Semaphore("consumer", 0);
        var producer = Semaphore("producer", 0);
        Assert.Null(await consumer.TryAcquireAsync(TimeSpan.Zero));
        var waiting = consumer.TryAcquireAsync(Wait);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, await producer.ReleaseAsync(Wait)); // the permit went straight to the waiter
        Assert.NotNull(await waiting);
    }

    [Fact]
    public async Task Release_by_anyone_raises_the_value_without_limit()
    {
        var a = Semaphore("a", 1);
        var b = Semaphore("b", 1);
        Assert.Equal(2, await b.ReleaseAsync(Wait));
        Assert.Equal(5, await b.ReleaseAsync(Wait, n: 3));
        var held = new List<LockHandle>();
        for (var i = 0; i < 5; i++)
            held.Add(await a.AcquireAsync(Wait));
        Assert.Null(await a.TryAcquireAsync(Short));
        var state = await a.StateAsync();
        Assert.Equal((SemKind.Semaphore, 1, 0, 5), (state.Kind, state.Initial, state.Value, state.Holders.Count));
        Assert.Contains("Semaphore(name=sem, owner=a, value=1, token=", a.ToString());
    }

    [Fact]
    public async Task Acquire_then_plain_release_by_the_same_participant_leaves_nothing_held()
    {
        var a = Semaphore("a", 1);
        await a.AcquireAsync(Wait);
        Assert.Equal(1, await a.ReleaseAsync(Wait));
        var state = await a.StateAsync();
        Assert.Empty(state.Holders);
        Assert.Contains("held=no", a.ToString());
    }

    [Fact]
    public async Task A_bounded_semaphore_refuses_a_release_above_its_initial_value()
    {
        var a = Bounded("a", 2);
        var b = Bounded("b", 2);
        await Assert.ThrowsAsync<SemaphoreFullException>(() => b.ReleaseAsync(Wait));
        var held = await a.AcquireAsync(Wait);
        Assert.Equal(2, await b.ReleaseAsync(Wait)); // anyone may release below the bound, as in Python
        await Assert.ThrowsAsync<SemaphoreFullException>(() => b.ReleaseAsync(Wait));
        // The holder's own release would go above the bound too: refused, and its holding ends.
        await Assert.ThrowsAsync<SemaphoreFullException>(() => held.ReleaseAsync());
        var state = await a.StateAsync();
        Assert.Equal((2, 0), (state.Value, state.Holders.Count));
    }

    [Fact]
    public async Task A_negative_value_and_a_conflicting_kind_or_value_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Semaphore("a", -1));
        await Semaphore("a", 2).AcquireAsync(Wait);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Semaphore("a", 3).AcquireAsync(Wait));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Bounded("a", 2).AcquireAsync(Wait));
        await Assert.ThrowsAsync<InvalidOperationException>(() => new SimLock(_manager, "sem", ClientLink.Local("a"), TestActor).AcquireAsync(Wait));
        // The manager refuses what a client would not send.
        _manager.Tell(new Acquire("neg", 1, "a", TestActor, Wait, SemKind.Semaphore, -1));
        Assert.Contains("must be 0 or more", ExpectMsg<AcquireRefused>().Reason);
        _manager.Tell(new Acquire("two", 1, "a", TestActor, Wait, SemKind.Lock, 2));
        ExpectMsg<AcquireRefused>();
        _manager.Tell(new ReleasePermits("sem", "a", SemKind.Semaphore, 2, 0));
        ExpectMsg<ReleaseRefused>();
        // A lock is released only by its holder with its token: no plain release.
        _manager.Tell(new ReleasePermits("lock-x", "a", SemKind.Lock, 1));
        ExpectMsg<ReleaseRefused>();
    }

    [Fact]
    public async Task A_dead_holder_gives_its_permits_back_and_a_dead_waiter_leaves_the_line()
    {
        var holderSession = CreateTestProbe();
        var holder = new SimSemaphore(_manager, "sem", 1, ClientLink.Local("holder"), holderSession.Ref);
        var deadWaiter = Semaphore("dead-waiter", 1);
        var waiter = Semaphore("waiter", 1);
        await holder.AcquireAsync(Wait);
        var lost = deadWaiter.TryAcquireAsync(Wait);
        await Task.Delay(50);
        var waiting = waiter.TryAcquireAsync(Wait);
        await Task.Delay(50);
        Sys.EventStream.Publish(new ParticipantExited("dead-waiter", -9));
        Sys.Stop(holderSession.Ref); // the slow path: DeathWatch of the holder's session
        Assert.NotNull(await waiting);
        var state = await waiter.StateAsync();
        Assert.Equal(["waiter"], state.Holders.Select(h => h.OwnerName));
        Assert.Empty(state.Waiters);
        // The dead waiter's request was dropped, not granted (a dead participant is answered nothing).
        Assert.False(lost.IsCompleted);
    }

    [Fact]
    public async Task A_bounded_semaphore_never_goes_above_its_bound_when_a_dead_holder_gives_back()
    {
        var session = CreateTestProbe();
        var holder = new SimBoundedSemaphore(_manager, "sem", 1, ClientLink.Local("holder"), session.Ref);
        await holder.AcquireAsync(Wait);
        await Bounded("other", 1).ReleaseAsync(Wait);
        Sys.EventStream.Publish(new ParticipantExited("holder", -9));
        await AwaitAssertAsync(async () => Assert.Empty((await holder.StateAsync()).Holders));
        Assert.Equal(1, (await holder.StateAsync()).Value);
    }
}
