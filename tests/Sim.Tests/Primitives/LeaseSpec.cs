using Akka.Actor;
using Akka.TestKit;
using Sim.Core;
using Xunit;

namespace Sim.Tests.Primitives;

/// <summary>Leases on the real lock manager: a silent holder loses the lock to the next waiter, a renewing one keeps it.</summary>
public sealed class LeaseSpec : SimSpec
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(300);
    private readonly IActorRef _manager;

    public LeaseSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private Acquire Request(string owner, TestProbe session, long id, TimeSpan lease = default) =>
        new("tickets", id, owner, session.Ref, Long, Lease: lease);

    [Fact]
    public void A_holder_that_does_not_renew_loses_the_lock_to_the_next_waiter_with_a_higher_token()
    {
        var silent = CreateTestProbe();
        _manager.Tell(Request("buyer-1", silent, 1, Lease), silent.Ref);
        var first = silent.ExpectMsg<Granted>();
        var sinceGrant = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(Lease, first.Lease);

        var next = CreateTestProbe();
        _manager.Tell(Request("buyer-2", next, 2), next.Ref);
        // Not before the lease ran out: timed from the grant, not as a window of silence that a test thread starved on
        // a loaded machine may open too late (it once saw the expiry's grant inside a 150 ms window opened 660 ms late).
        var second = next.ExpectMsg<Granted>(TimeSpan.FromSeconds(5));
        Assert.True(sinceGrant.Elapsed >= Lease - TimeSpan.FromMilliseconds(50), $"granted {sinceGrant.Elapsed.TotalMilliseconds:0} ms after the first grant");
        Assert.True(second.Token > first.Token);

        // The old holder wakes up: its renewal and its release are both told the holding is gone, and why.
        _manager.Tell(new RenewLease("tickets", first.Token, "buyer-1"), silent.Ref);
        Assert.Contains("lease", silent.ExpectMsg<LeaseLost>().Reason);
        _manager.Tell(new Release("tickets", first.Token, "buyer-1"), silent.Ref);
        Assert.Contains("lease of token 1", silent.ExpectMsg<ReleaseRefused>().Reason);

        _manager.Tell(GetLeaseExpiries.Instance, TestActor);
        var expiry = Assert.Single(ExpectMsg<LeaseExpiries>().All);
        Assert.Equal(("tickets", "buyer-1", first.Token), (expiry.Lock, expiry.OwnerName, expiry.Token));
    }

    [Fact]
    public async Task A_holder_that_renews_keeps_the_lock_past_its_lease()
    {
        // A lease of 2 s renewed every 250 ms, for 2.5 s in all. Waiting without blocking a thread: Thread.Sleep and the
        // blocking ExpectMsg held pool threads of this test process, and the lock manager's lease check then waited
        // ~700 ms for a thread (seen in 4 runs of 6): long enough, on a loaded machine, for the lease to run out. With a
        // 1 s lease a renewal still came too late once, 4 s into a clean-clone CI run while the whole suite started.
        var lease = TimeSpan.FromSeconds(2);
        var holder = CreateTestProbe();
        _manager.Tell(Request("buyer-1", holder, 1, lease), holder.Ref);
        var granted = await holder.ExpectMsgAsync<Granted>();
        var waiter = CreateTestProbe();
        _manager.Tell(Request("buyer-2", waiter, 2), waiter.Ref);
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(lease / 8);
            _manager.Tell(new RenewLease("tickets", granted.Token, "buyer-1"), holder.Ref);
            await holder.ExpectMsgAsync<LeaseRenewed>();
        }
        await waiter.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        _manager.Tell(new Release("tickets", granted.Token, "buyer-1"), holder.Ref);
        await holder.ExpectMsgAsync<Released>();
        Assert.Equal(granted.Token + 1, (await waiter.ExpectMsgAsync<Granted>()).Token);
        _manager.Tell(GetLeaseExpiries.Instance, TestActor);
        Assert.Empty((await ExpectMsgAsync<LeaseExpiries>()).All);
    }

    [Fact]
    public void A_lock_declared_with_a_lease_gives_it_to_every_grant_and_a_request_may_ask_for_its_own()
    {
        _manager.Tell(new SetLease("tickets", TimeSpan.FromSeconds(2)), TestActor);
        ExpectMsg<LeaseSet>();
        var session = CreateTestProbe();
        _manager.Tell(Request("buyer-1", session, 1), session.Ref);
        Assert.Equal(TimeSpan.FromSeconds(2), session.ExpectMsg<Granted>().Lease);
        _manager.Tell(new Release("tickets", 1, "buyer-1"), session.Ref);
        session.ExpectMsg<Released>();
        _manager.Tell(Request("buyer-1", session, 2, Lease), session.Ref);
        Assert.Equal(Lease, session.ExpectMsg<Granted>().Lease);

        _manager.Tell(new SetLease("tickets", TimeSpan.FromSeconds(-1)), TestActor);
        Assert.Contains("lease", ExpectMsg<AcquireRefused>().Reason);
        _manager.Tell(new Acquire("other", 3, "buyer-1", session.Ref, Long, Lease: TimeSpan.FromDays(2)), session.Ref);
        Assert.Contains("lease", session.ExpectMsg<AcquireRefused>().Reason);
    }

    [Fact]
    public void Without_a_lease_a_silent_holder_keeps_the_lock()
    {
        var silent = CreateTestProbe();
        _manager.Tell(Request("buyer-1", silent, 1), silent.Ref);
        Assert.Equal(TimeSpan.Zero, silent.ExpectMsg<Granted>().Lease);
        var next = CreateTestProbe();
        _manager.Tell(Request("buyer-2", next, 2), next.Ref);
        next.ExpectNoMsg(Lease * 3);
    }

    [Fact]
    public async Task The_client_renews_its_lease_by_itself_while_it_holds()
    {
        // A lease of 1 s renewed every third of it: a loaded machine may hold a renewal back a few hundred ms, not 600.
        var lease = TimeSpan.FromSeconds(1);
        var mutex = new SimLock(_manager, "tickets", ClientLink.Local("buyer-1"), CreateTestProbe().Ref) { Lease = lease };
        await using var held = await mutex.AcquireAsync(Long);
        var waiter = CreateTestProbe();
        _manager.Tell(Request("buyer-2", waiter, 2), waiter.Ref);
        waiter.ExpectNoMsg(lease * 3);
        Assert.False(held.IsLost);
        _manager.Tell(GetLeaseExpiries.Instance, TestActor);
        Assert.Empty(ExpectMsg<LeaseExpiries>().All);
        await held.DisposeAsync();
        waiter.ExpectMsg<Granted>();
    }

    [Fact]
    public async Task A_client_told_its_holding_is_gone_marks_the_handle_lost()
    {
        // A stand-in manager that grants with a lease and then answers the first renewal as a manager whose lease ran out.
        var manager = CreateTestProbe();
        var mutex = new SimLock(manager.Ref, "tickets", ClientLink.Local("buyer-1"), CreateTestProbe().Ref) { Lease = Lease };
        var acquiring = mutex.AcquireAsync(Long);
        var request = manager.ExpectMsg<Acquire>();
        Assert.Equal(Lease, request.Lease);
        manager.Reply(new Granted("tickets", request.RequestId, 7, Lease));
        var held = await acquiring;
        var renewal = manager.ExpectMsg<RenewLease>(TimeSpan.FromSeconds(5));
        Assert.Equal(7, renewal.Token);
        manager.Reply(new LeaseLost("tickets", 7, "the lease of token 7 on 'tickets' ran out"));
        await AwaitConditionAsync(() => Task.FromResult(held.IsLost), TimeSpan.FromSeconds(5));
        Assert.Contains("ran out", held.LostReason);
        Assert.Contains("lost", held.ToString());
        // Nothing is held any more, so nothing more is renewed: a renewal the timer sent while the answer was on its way
        // (a slow test thread) may still come, and then none for a whole lease.
        manager.ReceiveWhile<RenewLease>(Lease, Lease / 2, m => (m as RenewLease)!); // null ends it
        manager.ExpectNoMsg(Lease);
    }
}
