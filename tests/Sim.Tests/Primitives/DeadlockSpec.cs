using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 7: the lock manager's wait-for graph; a closed cycle is reported at once, a mere queue never.</summary>
public sealed class DeadlockSpec : SimSpec
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly IActorRef _manager;

    public DeadlockSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimLock Lock(string who, string name) => new(_manager, name, ClientLink.Local(who), CreateTestProbe().Ref);

    private async Task<DeadlockFound> AwaitDeadlock() => await _manager.Ask<DeadlockFound>(Sim.Core.AwaitDeadlock.Instance, TimeSpan.FromSeconds(3));

    [Fact]
    public async Task A_two_lock_cycle_is_reported_at_once_with_who_holds_and_wants_what()
    {
        var watcher = _manager.Ask<DeadlockFound>(Sim.Core.AwaitDeadlock.Instance, Long);
        await Lock("a", "left").AcquireAsync(Long);
        await Lock("b", "right").AcquireAsync(Long);
        _ = Lock("a", "right").TryAcquireAsync(Long);
        await Task.Delay(100);
        Assert.False(watcher.IsCompleted, "one waiter whose holder runs is no deadlock");
        var started = DateTime.UtcNow;
        _ = Lock("b", "left").TryAcquireAsync(Long);
        var found = await watcher.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1));
        Assert.Equal(
            ["b holds right, wants left (held by a)", "a holds left, wants right (held by b)"],
            found.Cycle.Select(e => e.ToString()));
        Assert.Equal(["a", "b"], found.Blocked);
        Assert.Single((await _manager.Ask<Deadlocks>(GetDeadlocks.Instance, Long)).All);
    }

    [Fact]
    public async Task Five_philosophers_each_holding_the_left_fork_are_one_cycle_of_five()
    {
        for (var seat = 1; seat <= 5; seat++)
            await Lock($"p{seat}", $"fork-{seat}").AcquireAsync(Long);
        for (var seat = 1; seat <= 5; seat++)
            _ = Lock($"p{seat}", $"fork-{seat % 5 + 1}").TryAcquireAsync(Long);
        var found = await AwaitDeadlock();
        Assert.Equal(5, found.Cycle.Count);
        Assert.All(found.Cycle, e => Assert.Equal($"fork-{int.Parse(e.Participant[1..]) % 5 + 1}", e.Wants));
    }

    [Fact]
    public async Task A_lock_asked_again_by_its_holder_is_a_deadlock_of_one_but_an_rlock_is_not()
    {
        await new SimRLock(_manager, "r", ClientLink.Local("a"), TestActor).AcquireAsync(Long);
        await new SimRLock(_manager, "r", ClientLink.Local("a"), TestActor).AcquireAsync(Long);
        await Lock("a", "plain").AcquireAsync(Long);
        _ = Lock("a", "plain").TryAcquireAsync(Long);
        var found = await AwaitDeadlock();
        Assert.Equal("a holds plain, wants plain (held by a)", Assert.Single(found.Cycle).ToString());
    }

    [Fact]
    public async Task Semaphores_count_only_when_every_holder_is_stuck_and_a_signal_semaphore_never()
    {
        var watcher = _manager.Ask<DeadlockFound>(Sim.Core.AwaitDeadlock.Instance, Long);
        SimSemaphore Pool(string who) => new(_manager, "pool", 2, ClientLink.Local(who), CreateTestProbe().Ref);
        await Pool("a").AcquireAsync(Long);
        await Pool("b").AcquireAsync(Long);
        await Lock("a", "l").AcquireAsync(Long);
        _ = Pool("a").TryAcquireAsync(Long); // a waits for the pool: b still runs
        _ = new SimSemaphore(_manager, "signal", 0, ClientLink.Local("c"), TestActor).TryAcquireAsync(Long); // anyone may release it
        await Task.Delay(150);
        Assert.False(watcher.IsCompleted);
        _ = Lock("b", "l").TryAcquireAsync(Long); // now both holders of the pool wait
        var found = await watcher.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(["a", "b"], found.Blocked);
    }

    [Fact]
    public async Task A_long_queue_behind_a_running_holder_is_no_deadlock_and_a_cycle_broken_by_a_timeout_can_form_again()
    {
        var watcher = _manager.Ask<DeadlockFound>(Sim.Core.AwaitDeadlock.Instance, Long);
        await Lock("holder", "busy").AcquireAsync(Long);
        for (var i = 0; i < 50; i++)
            _ = Lock($"w{i}", "busy").TryAcquireAsync(Long);
        await Task.Delay(150);
        Assert.False(watcher.IsCompleted);

        await Lock("a", "x").AcquireAsync(Long);
        await Lock("b", "y").AcquireAsync(Long);
        var gaveUp = Lock("a", "y").TryAcquireAsync(TimeSpan.FromMilliseconds(300));
        _ = Lock("b", "x").TryAcquireAsync(Long);
        await watcher.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Null(await gaveUp); // a timeout still ends a wait of the cycle: Sim reports, the run's shell decides
        _ = Lock("a", "y").TryAcquireAsync(Long);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await _manager.Ask<Deadlocks>(GetDeadlocks.Instance, Long)).All.Count));
    }

    [Fact]
    public async Task A_condition_waiter_taking_its_lock_back_is_part_of_the_graph()
    {
        var link = ClientLink.Local("a");
        var condLock = new SimLock(_manager, "m", link, TestActor);
        var condition = new SimCondition("c", condLock);
        await condLock.AcquireAsync(Long);
        await Lock("a", "other").AcquireAsync(Long);
        _ = condition.WaitAsync(TimeSpan.FromMilliseconds(100)); // gives m up; times out and wants m back
        await Lock("b", "m").AcquireAsync(Long);
        _ = Lock("b", "other").TryAcquireAsync(Long);
        var found = await AwaitDeadlock();
        Assert.Equal(["a", "b"], found.Blocked);
    }
}
