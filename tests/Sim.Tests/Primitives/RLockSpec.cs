using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 2: RLock, reentrant for its holder, released fully only by as many releases.</summary>
public sealed class RLockSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly IActorRef _manager;

    public RLockSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimRLock RLock(string who, IActorRef? session = null) => new(_manager, "r", ClientLink.Local(who), session ?? CreateTestProbe().Ref);

    [Fact]
    public async Task The_holder_reenters_and_the_lock_is_free_after_as_many_releases()
    {
        var mine = RLock("buyer-3");
        var theirs = RLock("buyer-4");
        var outer = await mine.AcquireAsync(Wait);
        var inner = await mine.AcquireAsync(TimeSpan.Zero); // reentry never waits
        Assert.Equal(outer.Token, inner.Token);
        Assert.Equal($"RLock(name=r, owner=buyer-3, count=2, token={outer.Token})", mine.ToString());
        Assert.Equal(2, Assert.Single((await mine.StateAsync()).Holders).Count);

        var waiting = theirs.TryAcquireAsync(Wait);
        await inner.ReleaseAsync();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted, "one release of two must not free it");
        Assert.Contains("count=1", mine.ToString());
        await using (outer)
        {
        }
        var next = await waiting;
        Assert.NotNull(next);
        Assert.True(next.Token > outer.Token);
        Assert.Contains("held=no", mine.ToString());
    }

    [Fact]
    public async Task A_release_by_another_participant_or_of_an_unheld_token_raises()
    {
        var mine = RLock("buyer-3");
        var theirs = RLock("buyer-4");
        var held = await mine.AcquireAsync(Wait);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => theirs.ReleaseAsync(held.Token));
        Assert.Contains("held by buyer-3", refused.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => mine.ReleaseAsync(held.Token + 1));
        await held.ReleaseAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => mine.ReleaseAsync(held.Token));
    }

    [Fact]
    public async Task A_dead_holder_releases_it_whatever_its_count_and_others_time_out_meanwhile()
    {
        var session = CreateTestProbe();
        var mine = RLock("buyer-3", session.Ref);
        var theirs = RLock("buyer-4");
        var held = await mine.AcquireAsync(Wait);
        await mine.AcquireAsync(Wait);
        await mine.AcquireAsync(Wait);
        Assert.Null(await theirs.TryAcquireAsync(TimeSpan.FromMilliseconds(150)));
        var waiting = theirs.TryAcquireAsync(Wait);
        Sys.EventStream.Publish(new ParticipantExited("buyer-3", -9));
        var next = await waiting;
        Assert.NotNull(next);
        Assert.True(next.Token > held.Token);
    }

    [Fact]
    public async Task An_rlock_is_not_a_lock_of_the_same_name()
    {
        await RLock("a").AcquireAsync(Wait);
        await Assert.ThrowsAsync<InvalidOperationException>(() => new SimLock(_manager, "r", ClientLink.Local("b"), TestActor).AcquireAsync(Wait));
    }
}
