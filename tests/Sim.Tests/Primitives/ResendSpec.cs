using Akka.Actor;
using Akka.TestKit;
using Sim.Core;
using Xunit;

namespace Sim.Tests.Primitives;

/// <summary>
/// Copies of an acquire (a client that heard nothing sends the same request again) on the real lock manager: a copy
/// never takes the lock a second time, and a lost grant is given again.
/// </summary>
public sealed class ResendSpec : SimSpec
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly IActorRef _manager;

    public ResendSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private static Acquire Request(string owner, IActorRef session, long id, TimeSpan? timeout = null) =>
        new("tickets", id, owner, session, timeout ?? Long);

    private LockState State()
    {
        _manager.Tell(new GetLockState("tickets"), TestActor);
        return ExpectMsg<LockState>();
    }

    [Fact]
    public void A_copy_of_a_waiting_request_is_answered_once_to_its_newest_asker()
    {
        var holder = CreateTestProbe();
        _manager.Tell(Request("a", holder.Ref, 1), holder.Ref);
        var held = holder.ExpectMsg<Granted>();
        var (first, second) = (CreateTestProbe(), CreateTestProbe());
        _manager.Tell(Request("b", first.Ref, 7), first.Ref);
        _manager.Tell(Request("b", second.Ref, 7), second.Ref);
        Assert.Equal(["b"], State().Waiters);
        _manager.Tell(new Release("tickets", held.Token, "a"), holder.Ref);
        holder.ExpectMsg<Released>();
        Assert.Equal(held.Token + 1, second.ExpectMsg<Granted>().Token);
        first.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Single(State().Holders);
    }

    [Fact]
    public void A_copy_of_a_granted_request_gets_the_same_grant_again_and_no_second_holding()
    {
        var (lost, again) = (CreateTestProbe(), CreateTestProbe());
        _manager.Tell(Request("a", lost.Ref, 3), lost.Ref);
        var granted = lost.ExpectMsg<Granted>();
        _manager.Tell(Request("a", again.Ref, 3), again.Ref);
        Assert.Equal(granted, again.ExpectMsg<Granted>());
        var state = State();
        Assert.Equal(new LockHolderInfo("a", granted.Token), Assert.Single(state.Holders));
        Assert.Equal(granted.Token, state.LastToken);
    }

    [Fact]
    public void A_late_copy_of_a_request_that_is_over_is_ignored()
    {
        var session = CreateTestProbe();
        _manager.Tell(Request("a", session.Ref, 5), session.Ref);
        var granted = session.ExpectMsg<Granted>();
        _manager.Tell(new Release("tickets", granted.Token, "a"), session.Ref);
        session.ExpectMsg<Released>();
        // The copy arrives after the holding was given back: it must not take the lock again.
        _manager.Tell(Request("a", session.Ref, 5), session.Ref);
        session.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Empty(State().Holders);

        // A copy of a request that timed out is told so again (the first answer may be the one that was lost), and
        // does not wait again.
        var holder = CreateTestProbe();
        _manager.Tell(Request("c", holder.Ref, 1), holder.Ref);
        holder.ExpectMsg<Granted>();
        _manager.Tell(Request("a", session.Ref, 6, TimeSpan.FromMilliseconds(50)), session.Ref);
        session.ExpectMsg<AcquireTimedOut>();
        _manager.Tell(Request("a", session.Ref, 6, TimeSpan.FromMilliseconds(50)), session.Ref);
        Assert.Equal(new AcquireTimedOut("tickets", 6), session.ExpectMsg<AcquireTimedOut>());
        Assert.Empty(State().Waiters);
        // A new request of the same owner is served as ever.
        _manager.Tell(Request("a", session.Ref, 8), session.Ref);
        Assert.Equal(["a"], State().Waiters);
    }

    [Fact]
    public void A_copy_of_a_request_whose_grant_ran_out_of_lease_is_refused_not_granted_again()
    {
        var lost = CreateTestProbe();
        _manager.Tell(new Acquire("tickets", 4, "a", lost.Ref, Long, Lease: TimeSpan.FromMilliseconds(200)), lost.Ref);
        var granted = lost.ExpectMsg<Granted>();
        // The grant never arrived (a partition); its lease runs out; then the copy comes through.
        Thread.Sleep(600);
        var copy = CreateTestProbe();
        _manager.Tell(new Acquire("tickets", 4, "a", copy.Ref, Long, Lease: TimeSpan.FromMilliseconds(200)), copy.Ref);
        Assert.Contains($"lease of token {granted.Token}", copy.ExpectMsg<AcquireRefused>().Reason);
        Assert.Empty(State().Holders);
    }

    [Fact]
    public async Task The_client_sends_an_unanswered_acquire_again_and_takes_the_grant_of_the_copy()
    {
        // A stand-in manager whose link lost the first request: only the copy is answered.
        var manager = CreateTestProbe();
        var mutex = new SimLock(manager.Ref, "tickets", ClientLink.Local("a"), CreateTestProbe().Ref);
        var acquiring = mutex.AcquireAsync(Long);
        var first = manager.ExpectMsg<Acquire>();
        var copy = manager.ExpectMsg<Acquire>(TimeSpan.FromSeconds(5));
        Assert.Equal(first, copy);
        manager.Reply(new Granted("tickets", copy.RequestId, 9));
        await using var held = await acquiring;
        Assert.Equal(9, held.Token);
    }
}
