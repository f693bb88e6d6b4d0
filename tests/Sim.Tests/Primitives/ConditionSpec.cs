using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 3: Condition with its lock, as Python's.</summary>
public sealed class ConditionSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly IActorRef _manager;

    public ConditionSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimCondition Condition(string who, bool reentrant = true, IActorRef? session = null)
    {
        var link = ClientLink.Local(who);
        var owner = session ?? CreateTestProbe().Ref;
        SemLock @lock = reentrant ? new SimRLock(_manager, "c.lock", link, owner) : new SimLock(_manager, "c.lock", link, owner);
        return new SimCondition("c", @lock);
    }

    [Fact]
    public async Task Wait_gives_the_lock_up_notify_wakes_the_longest_waiter_who_holds_the_lock_again_with_a_new_token()
    {
        var first = Condition("first");
        var second = Condition("second");
        var notifier = Condition("notifier");
        var held1 = await first.Lock.AcquireAsync(Wait);
        var waiting1 = first.WaitAsync(Wait);
        var held2 = await second.Lock.AcquireAsync(Wait); // free again: the waiter gave it up
        var waiting2 = second.WaitAsync(Wait);
        await using (await notifier.Lock.AcquireAsync(Wait))
        {
            Assert.Equal(1, await notifier.NotifyAsync());
            await Task.Delay(100);
            Assert.False(waiting1.IsCompleted, "the woken waiter takes the lock back only once the notifier lets go");
        }
        Assert.True(await waiting1);
        Assert.True(held1.Token > held2.Token, "the lock was taken back with a new fencing token");
        Assert.Contains($"token={held1.Token}", first.Lock.ToString());
        Assert.False(waiting2.IsCompleted);
        await using (held1)
        {
        }
        await using (await notifier.Lock.AcquireAsync(Wait))
            Assert.Equal(1, await notifier.NotifyAllAsync());
        Assert.True(await waiting2);
        await held2.ReleaseAsync();
    }

    [Fact]
    public async Task Wait_times_out_with_false_and_still_holds_the_lock_with_its_rlock_count()
    {
        var c = Condition("waiter");
        var outer = await c.Lock.AcquireAsync(Wait);
        await c.Lock.AcquireAsync(Wait);
        Assert.False(await c.WaitAsync(TimeSpan.FromMilliseconds(150)));
        var holder = Assert.Single((await c.Lock.StateAsync()).Holders);
        Assert.Equal(("waiter", 2, outer.Token), (holder.OwnerName, holder.Count, holder.Token));
        Assert.False(await c.WaitAsync(TimeSpan.Zero));
        Assert.Contains("count=2", c.Lock.ToString());
    }

    [Fact]
    public async Task Wait_for_evaluates_the_predicate_after_each_wake_up_until_it_holds_or_the_time_is_up()
    {
        var c = Condition("waiter");
        var notifier = Condition("notifier");
        var value = 0;
        var evaluations = 0;
        await using var held = await c.Lock.AcquireAsync(Wait);
        var waiting = c.WaitForAsync(() => { evaluations++; return Volatile.Read(ref value) >= 2; }, Wait);
        for (var i = 1; i <= 2; i++)
        {
            await Task.Delay(100);
            await using (await notifier.Lock.AcquireAsync(Wait))
            {
                Volatile.Write(ref value, i);
                await notifier.NotifyAsync();
            }
        }
        Assert.True(await waiting);
        Assert.Equal(3, evaluations);
        Assert.False(await c.WaitForAsync(() => false, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Waiting_or_notifying_without_holding_the_lock_raises()
    {
        var c = Condition("me");
        var other = Condition("other", reentrant: true);
        await Assert.ThrowsAsync<SynchronizationLockException>(() => c.WaitAsync(Wait));
        await Assert.ThrowsAsync<SynchronizationLockException>(() => c.NotifyAsync());
        await using var theirs = await other.Lock.AcquireAsync(Wait);
        await Assert.ThrowsAsync<SynchronizationLockException>(() => c.NotifyAllAsync());
        // A condition belongs to one lock.
        await using var mine = await new SimLock(_manager, "elsewhere", ClientLink.Local("me"), TestActor).AcquireAsync(Wait);
        await Assert.ThrowsAsync<SynchronizationLockException>(() =>
            new SimCondition("c", new SimLock(_manager, "elsewhere", ClientLink.Local("me"), TestActor)).WaitAsync(Wait));
        Assert.Throws<ArgumentException>(() => new SimCondition("s", new SimSemaphore(_manager, "s", 1, ClientLink.Local("me"), TestActor)));
    }

    [Fact]
    public async Task A_dead_waiter_leaves_the_condition_and_a_dead_holder_frees_the_lock_for_the_woken()
    {
        var deadSession = CreateTestProbe();
        var dead = Condition("dead", reentrant: false, session: deadSession.Ref);
        var waiter = Condition("waiter", reentrant: false);
        var notifier = Condition("notifier", reentrant: false);
        await dead.Lock.AcquireAsync(Wait);
        _ = dead.WaitAsync(Wait);
        await waiter.Lock.AcquireAsync(Wait);
        var waiting = waiter.WaitAsync(Wait);
        Sys.EventStream.Publish(new ParticipantExited("dead", -9));
        await Task.Delay(100);
        var holdingNotifier = await notifier.Lock.AcquireAsync(Wait);
        Assert.Equal(1, await notifier.NotifyAsync(5)); // the dead one is no longer waiting
        // The notifier dies holding the lock: the woken waiter gets it all the same.
        Sys.EventStream.Publish(new ParticipantExited("notifier", -9));
        Assert.True(await waiting);
        Assert.True(holdingNotifier.Token > 0);
    }
}
