using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Issue 13 item 5: Barrier, as Python's; broken for everyone by a timeout, abort, reset or a waiter's death.</summary>
public sealed class BarrierSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly IActorRef _manager;

    public BarrierSpec() => _manager = Sys.ActorOf(LockManager.Props());

    private SimBarrier Barrier(string who, int parties = 3) => new(_manager, "meet", parties, ClientLink.Local(who), CreateTestProbe().Ref);

    private async Task AwaitWaiting(int count) =>
        await AwaitAssertAsync(async () => Assert.Equal(count, (await Barrier("observer").StateAsync()).Waiting));

    [Fact]
    public async Task The_last_to_arrive_lets_all_go_each_with_its_arrival_index_and_the_barrier_is_reusable()
    {
        for (var round = 0; round < 2; round++)
        {
            var a = Barrier("a").WaitAsync(Wait);
            await AwaitWaiting(1);
            var b = Barrier("b").WaitAsync(Wait);
            await AwaitWaiting(2);
            Assert.False(a.IsCompleted);
            var c = await Barrier("c").WaitAsync(Wait);
            int[] indexes = [await a, await b, c];
            Assert.Equal([0, 1, 2], indexes);
        }
        var state = await Barrier("observer").StateAsync();
        Assert.Equal((3, 0, false), (state.Parties, state.Waiting, state.Broken));
    }

    [Fact]
    public async Task A_timeout_breaks_the_barrier_for_every_waiter_and_later_waits_until_a_reset()
    {
        var patient = Barrier("patient").WaitAsync(Wait);
        await AwaitWaiting(1);
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<BrokenBarrierException>(() => Barrier("hasty").WaitAsync(TimeSpan.FromMilliseconds(150)));
        var broken = await Assert.ThrowsAsync<BrokenBarrierException>(() => patient);
        Assert.Contains("hasty timed out", broken.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), "broken at the timeout, not at the other waiter's");
        Assert.True((await Barrier("observer").StateAsync()).Broken);
        await Assert.ThrowsAsync<BrokenBarrierException>(() => Barrier("late").WaitAsync(Wait));
        var reset = await Barrier("observer").ResetAsync();
        Assert.False(reset.Broken);
        var again = new[] { Barrier("a").WaitAsync(Wait), Barrier("b").WaitAsync(Wait), Barrier("c").WaitAsync(Wait) };
        Assert.Equal([0, 1, 2], (await Task.WhenAll(again)).Order());
    }

    [Fact]
    public async Task Abort_and_reset_break_the_waiters()
    {
        var waiting = Barrier("a").WaitAsync(Wait);
        await AwaitWaiting(1);
        await Barrier("b").AbortAsync();
        Assert.Contains("aborted by b", (await Assert.ThrowsAsync<BrokenBarrierException>(() => waiting)).Message);
        await Barrier("b").ResetAsync();
        waiting = Barrier("a").WaitAsync(Wait);
        await AwaitWaiting(1);
        var state = await Barrier("b").ResetAsync();
        Assert.Contains("reset by b", (await Assert.ThrowsAsync<BrokenBarrierException>(() => waiting)).Message);
        Assert.Equal((0, false), (state.Waiting, state.Broken));
    }

    [Fact]
    public async Task The_death_of_a_waiting_participant_breaks_it_for_the_others_at_once()
    {
        var waits = new[] { Barrier("a", 4).WaitAsync(Wait), Barrier("dead", 4).WaitAsync(Wait) };
        await AwaitAssertAsync(async () => Assert.Equal(2, (await Barrier("observer", 4).StateAsync()).Waiting));
        var waitC = Barrier("c", 4).WaitAsync(Wait);
        await AwaitAssertAsync(async () => Assert.Equal(3, (await Barrier("observer", 4).StateAsync()).Waiting));
        var started = DateTime.UtcNow;
        Sys.EventStream.Publish(new ParticipantExited("dead", -9));
        Assert.Contains("dead exited", (await Assert.ThrowsAsync<BrokenBarrierException>(() => waits[0])).Message);
        await Assert.ThrowsAsync<BrokenBarrierException>(() => waitC);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Bad_parties_and_conflicting_parties_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Barrier("a", 0));
        await Barrier("a", 3).StateAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Barrier("a", 4).WaitAsync(Wait));
        Assert.Equal("Barrier(name=meet, parties=3, owner=a)", Barrier("a").ToString());
    }
}
