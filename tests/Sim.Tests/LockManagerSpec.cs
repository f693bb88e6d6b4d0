using Akka.Actor;
using Akka.TestKit;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class LockManagerSpec : SimSpec
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly IActorRef _manager;

    public LockManagerSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private Acquire Request(string owner, TestProbe session, long id, TimeSpan? timeout = null, string lockName = "tickets", int maxHolders = 1,
        SemKind? kind = null) =>
        new(lockName, id, owner, session.Ref, timeout ?? Long, kind ?? (maxHolders == 1 ? SemKind.Lock : SemKind.BoundedSemaphore), maxHolders);

    [Fact]
    public void Free_lock_is_granted_with_token_1()
    {
        var session = CreateTestProbe();
        _manager.Tell(Request("buyer-1", session, 1), TestActor);
        var granted = ExpectMsg<Granted>();
        Assert.Equal(new Granted("tickets", 1, 1), granted);
    }

    [Fact]
    public void Waiters_are_granted_in_arrival_order()
    {
        var holder = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var first = holder.ExpectMsg<Granted>();

        var waiters = Enumerable.Range(1, 5).Select(_ => CreateTestProbe()).ToList();
        for (var i = 0; i < waiters.Count; i++)
            _manager.Tell(Request($"w{i}", waiters[i], 100 + i), waiters[i].Ref);
        foreach (var waiter in waiters)
            waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(50));

        var token = first.Token;
        _manager.Tell(new Release("tickets", token, "holder"), holder.Ref);
        holder.ExpectMsg<Released>();
        foreach (var waiter in waiters)
        {
            var granted = waiter.ExpectMsg<Granted>();
            Assert.True(granted.Token > token);
            token = granted.Token;
            // Nobody behind it is granted while it holds.
            foreach (var other in waiters.Where(w => w != waiter))
                other.ExpectNoMsg(TimeSpan.FromMilliseconds(20));
            _manager.Tell(new Release("tickets", granted.Token, $"w{waiters.IndexOf(waiter)}"), waiter.Ref);
            waiter.ExpectMsg<Released>();
        }
    }

    [Fact]
    public void Acquire_times_out_and_the_late_waiter_is_never_granted()
    {
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        _manager.Tell(Request("waiter", waiter, 2, TimeSpan.FromMilliseconds(200)), waiter.Ref);
        waiter.ExpectMsg<AcquireTimedOut>(TimeSpan.FromSeconds(5));

        _manager.Tell(new Release("tickets", held.Token, "holder"), holder.Ref);
        holder.ExpectMsg<Released>();
        waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _manager.Tell(new GetLockState("tickets"));
        Assert.Empty(ExpectMsg<LockState>().Holders);
    }

    [Fact]
    public void Zero_timeout_is_a_non_blocking_try()
    {
        var holder = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        holder.ExpectMsg<Granted>();
        _manager.Tell(Request("other", CreateTestProbe(), 2, TimeSpan.Zero));
        ExpectMsg<AcquireTimedOut>();
    }

    [Fact]
    public void Release_by_a_non_holder_is_refused()
    {
        var holder = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();

        _manager.Tell(new Release("tickets", held.Token + 1, "holder"));
        ExpectMsg<ReleaseRefused>();
        _manager.Tell(new Release("never-created", 1, "holder"));
        ExpectMsg<ReleaseRefused>();

        _manager.Tell(new Release("tickets", held.Token, "holder"));
        ExpectMsg<Released>();
        // A second release of the same grant is refused too, not silently accepted.
        _manager.Tell(new Release("tickets", held.Token, "holder"));
        ExpectMsg<ReleaseRefused>();
    }

    [Fact]
    public void Tokens_strictly_increase_per_lock()
    {
        var session = CreateTestProbe();
        var last = 0L;
        for (var i = 0; i < 50; i++)
        {
            _manager.Tell(Request("buyer", session, i));
            var granted = ExpectMsg<Granted>();
            Assert.True(granted.Token > last, $"token {granted.Token} after {last}");
            last = granted.Token;
            _manager.Tell(new Release("tickets", granted.Token, "buyer"));
            ExpectMsg<Released>();
        }
    }

    [Fact]
    public void Lock_of_a_holder_whose_session_dies_passes_to_the_next_waiter()
    {
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        _manager.Tell(Request("waiter", waiter, 2), waiter.Ref);
        waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(50));

        Sys.Stop(holder.Ref);
        var next = waiter.ExpectMsg<Granted>(TimeSpan.FromSeconds(5));
        Assert.True(next.Token > held.Token);
    }

    [Fact]
    public void Lock_of_a_participant_reported_exited_passes_on_at_once()
    {
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("buyer-1", holder, 1), holder.Ref);
        holder.ExpectMsg<Granted>();
        _manager.Tell(Request("buyer-2", waiter, 2), waiter.Ref);
        waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(50));

        // The launcher publishes this when it sees the OS process end; the session actor may look alive for seconds.
        AwaitAssert(() =>
        {
            Sys.EventStream.Publish(new ParticipantExited("buyer-1", -9));
            waiter.ExpectMsg<Granted>(TimeSpan.FromMilliseconds(200));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Independent_lock_names_do_not_block_each_other()
    {
        var session = CreateTestProbe();
        _manager.Tell(Request("a", session, 1, lockName: "left"));
        var left = ExpectMsg<Granted>();
        _manager.Tell(Request("a", session, 2, lockName: "right"));
        var right = ExpectMsg<Granted>();
        Assert.Equal(1, left.Token);
        Assert.Equal(1, right.Token);
    }

    [Fact]
    public void Semaphore_admits_up_to_its_permits_and_refuses_a_conflicting_kind()
    {
        var probes = Enumerable.Range(0, 3).Select(_ => CreateTestProbe()).ToList();
        for (var i = 0; i < 3; i++)
            _manager.Tell(Request($"p{i}", probes[i], i, lockName: "pool", maxHolders: 2), probes[i].Ref);
        var first = probes[0].ExpectMsg<Granted>();
        probes[1].ExpectMsg<Granted>();
        probes[2].ExpectNoMsg(TimeSpan.FromMilliseconds(50));

        _manager.Tell(Request("x", CreateTestProbe(), 9, lockName: "pool", maxHolders: 1));
        ExpectMsg<AcquireRefused>();
        _manager.Tell(Request("x", CreateTestProbe(), 9, lockName: "pool", maxHolders: 3));
        Assert.Contains("BoundedSemaphore(2)", ExpectMsg<AcquireRefused>().Reason);

        _manager.Tell(new Release("pool", first.Token, "p0"), probes[0].Ref);
        probes[2].ExpectMsg<Granted>();
    }

    [Fact]
    public void Cancelled_request_is_dropped_while_waiting_and_given_back_once_granted()
    {
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        _manager.Tell(Request("waiter", waiter, 2), waiter.Ref);
        _manager.Tell(new CancelAcquire("tickets", 2, "waiter"));
        _manager.Tell(new Release("tickets", held.Token, "holder"), holder.Ref);
        holder.ExpectMsg<Released>();
        waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // Granted, but the caller gave up before the reply reached it: the permit comes back.
        _manager.Tell(Request("late", waiter, 3), waiter.Ref);
        waiter.ExpectMsg<Granted>();
        _manager.Tell(new CancelAcquire("tickets", 3, "late"));
        _manager.Tell(Request("next", holder, 4, TimeSpan.FromSeconds(5)), holder.Ref);
        holder.ExpectMsg<Granted>();
    }

    [Fact]
    public async Task Client_acquires_releases_on_dispose_and_times_out_while_held()
    {
        var session = CreateTestProbe();
        var mine = new SimLock(_manager, "tickets", ClientLink.Local("buyer-3"), session.Ref);
        var theirs = new SimLock(_manager, "tickets", ClientLink.Local("buyer-4"), CreateTestProbe().Ref);
        await using (var held = await mine.AcquireAsync(TimeSpan.FromSeconds(5)))
        {
            Assert.Equal($"Lock(name=tickets, owner=buyer-3, token={held.Token})", held.ToString());
            Assert.Contains($"token={held.Token}", mine.ToString());
            Assert.Null(await theirs.TryAcquireAsync(TimeSpan.FromMilliseconds(100)));
            await Assert.ThrowsAsync<TimeoutException>(() => theirs.AcquireAsync(TimeSpan.FromMilliseconds(100)));
        }
        Assert.Contains("held=no", mine.ToString());
        await using var again = await theirs.AcquireAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, again.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => mine.ReleaseAsync(again.Token + 100));
    }

    [Fact]
    public void Release_by_another_participant_with_the_right_token_is_refused()
    {
        var holder = CreateTestProbe();
        _manager.Tell(Request("holder", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        _manager.Tell(new Release("tickets", held.Token, "intruder"));
        Assert.Contains("held by holder", ExpectMsg<ReleaseRefused>().Reason);
        _manager.Tell(new GetLockState("tickets"));
        Assert.Equal("holder", Assert.Single(ExpectMsg<LockState>().Holders).OwnerName);
    }

    [Fact]
    public void A_participant_that_left_is_refused_and_its_lock_passes_on()
    {
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("buyer-1", holder, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        _manager.Tell(Request("buyer-2", waiter, 2), waiter.Ref);
        Sys.EventStream.Publish(new ParticipantExited("buyer-1", -15));
        Assert.True(waiter.ExpectMsg<Granted>().Token > held.Token);

        // Whatever it still sends is refused: no release of someone else's grant, no new acquire.
        _manager.Tell(new Release("tickets", held.Token, "buyer-1"), holder.Ref);
        holder.ExpectMsg<ParticipantFenced>();
        _manager.Tell(Request("buyer-1", holder, 3), holder.Ref);
        Assert.Equal("buyer-1", holder.ExpectMsg<ParticipantFenced>().Participant);
    }

    [Fact]
    public void Idle_locks_are_forgotten_but_their_tokens_keep_increasing()
    {
        var manager = ActorOfAsTestActorRef<LockManager>(LockManager.Props());
        var session = CreateTestProbe();
        var last = 0L;
        for (var i = 0; i < 100; i++)
        {
            manager.Tell(Request("buyer", session, i, lockName: $"lock-{i % 10}"));
            var granted = ExpectMsg<Granted>();
            manager.Tell(new Release($"lock-{i % 10}", granted.Token, "buyer"));
            ExpectMsg<Released>();
            if (i % 10 == 9)
            {
                Assert.True(granted.Token > last);
                last = granted.Token;
            }
        }
        Assert.Equal(0, manager.UnderlyingActor.LiveLocks);
        manager.Tell(Request("waiter", session, 1000, TimeSpan.FromMilliseconds(100), lockName: "lock-3"));
        Assert.Equal(11, ExpectMsg<Granted>().Token);
        manager.Tell(Request("late", session, 1001, TimeSpan.FromMilliseconds(100), lockName: "lock-3"));
        ExpectMsg<AcquireTimedOut>();
        manager.Tell(new Release("lock-3", 11, "waiter"));
        ExpectMsg<Released>();
        Assert.Equal(0, manager.UnderlyingActor.LiveLocks);
    }
}
