using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class SharedDataSpec : SimSpec
{
    private readonly IActorRef _data;

    private static readonly ClientLink Link = ClientLink.Local("tester");

    public SharedDataSpec() => _data = Sys.ActorOf(SharedData.Props());

    [Fact]
    public async Task Value_get_set_add_and_compare_and_set()
    {
        var value = await SharedObjectClient.DeclareAsync(_data, Link, "v", SharedKind.Value, SharedScalar.Of(5));
        Assert.Equal(5, (await value.GetAsync()).AsInt());
        await value.SetAsync(SharedScalar.Of(7));
        Assert.Equal(8, (await value.AddAsync(1)).AsInt());
        Assert.False(await value.CompareAndSetAsync(SharedScalar.Of(7), SharedScalar.Of(100)));
        Assert.True(await value.CompareAndSetAsync(SharedScalar.Of(8), SharedScalar.Of(100)));
        Assert.Equal(100, (await value.GetAsync()).AsInt());
        // A second declaration of the same object finds it as it is.
        var again = await SharedObjectClient.DeclareAsync(_data, Link, "v", SharedKind.Value, SharedScalar.Of(0));
        Assert.Equal(100, (await again.GetAsync()).AsInt());
    }

    [Fact]
    public async Task Array_list_dict_and_namespace()
    {
        var array = await SharedObjectClient.DeclareAsync(_data, Link, "a", SharedKind.Array, SharedScalar.Of(0.0), length: 3);
        await array.SetAsync(SharedScalar.Of(2.5), "1");
        Assert.Equal(["0", "2.5", "0"], (await array.ItemsAsync()).Select(kv => kv.Value.ToString()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => array.SetAsync(SharedScalar.Of(1.0), "3"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => array.AppendAsync(SharedScalar.Of(1.0)));

        var list = await SharedObjectClient.DeclareAsync(_data, Link, "l", SharedKind.List);
        Assert.Equal(1, await list.AppendAsync(SharedScalar.Of("x")));
        Assert.Equal(2, await list.AppendAsync(SharedScalar.Of("y")));
        Assert.Equal("'y'", (await list.GetAsync("1")).ToString());

        var dict = await SharedObjectClient.DeclareAsync(_data, Link, "d", SharedKind.Dict);
        await dict.SetAsync(SharedScalar.Of(1), "one");
        Assert.Equal(2, (await dict.AddAsync(1, "one")).AsInt());
        Assert.Equal(5, (await dict.AddAsync(5, "new")).AsInt());
        await Assert.ThrowsAsync<InvalidOperationException>(() => dict.GetAsync("missing"));

        var ns = await SharedObjectClient.DeclareAsync(_data, Link, "ns", SharedKind.Namespace);
        await ns.SetAsync(SharedScalar.Of("ready"), "state");
        Assert.Equal("ready", (await ns.GetAsync("state")).Text);

        await Assert.ThrowsAsync<InvalidOperationException>(() => SharedObjectClient.DeclareAsync(_data, Link, "d", SharedKind.List));
    }

    [Fact]
    public async Task Read_then_write_from_many_clients_loses_updates_but_atomic_add_does_not()
    {
        var racy = await SharedObjectClient.DeclareAsync(_data, Link, "racy", SharedKind.Value, SharedScalar.Of(0));
        var safe = await SharedObjectClient.DeclareAsync(_data, Link, "safe", SharedKind.Value, SharedScalar.Of(0));
        // Eight clients each read, pause, write back +1: all read 0 before any writes, so most updates are lost.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            var value = (await racy.GetAsync()).AsInt();
            await Task.Delay(200);
            await racy.SetAsync(SharedScalar.Of(value + 1));
        }));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => safe.AddAsync(1)));
        Assert.True((await racy.GetAsync()).AsInt() < 8);
        Assert.Equal(8, (await safe.GetAsync()).AsInt());
    }

    [Fact]
    public async Task A_stale_holder_cannot_write_after_the_next_holder_has_read()
    {
        var manager = Sys.ActorOf(LockManager.Props());
        var (linkA, linkB) = (ClientLink.Local("counter-a"), ClientLink.Local("counter-b"));
        var counterA = await SharedObjectClient.DeclareAsync(_data, linkA, "fenced", SharedKind.Value, SharedScalar.Of(0));
        var counterB = await SharedObjectClient.DeclareAsync(_data, linkB, "fenced", SharedKind.Value, SharedScalar.Of(0));
        var lockA = new SimLock(manager, "counter", linkA, CreateTestProbe().Ref);
        var lockB = new SimLock(manager, "counter", linkB, CreateTestProbe().Ref);

        var heldA = await lockA.AcquireAsync(TimeSpan.FromSeconds(5));
        var readA = (await counterA.GetAsync(fence: heldA)).AsInt();
        // A stalls between its read and its write (a pause, a long GC) and loses the lock meanwhile.
        await lockA.ReleaseAsync(heldA.Token);
        await using var heldB = await lockB.AcquireAsync(TimeSpan.FromSeconds(5));
        var readB = (await counterB.GetAsync(fence: heldB)).AsInt();
        // A wakes up and writes with its old token: refused, B's read-then-write stands.
        await Assert.ThrowsAsync<StaleTokenException>(() => counterA.SetAsync(SharedScalar.Of(readA + 1), fence: heldA));
        await counterB.SetAsync(SharedScalar.Of(readB + 1), fence: heldB);
        // An unfenced write after fenced ones is refused too: the object is guarded by the lock now.
        await Assert.ThrowsAsync<StaleTokenException>(() => counterA.SetAsync(SharedScalar.Of(100)));

        Assert.Equal(1, (await counterB.GetAsync()).AsInt());
        var stats = await counterB.StatsAsync();
        Assert.Equal((1L, 2L, heldB.Token), (stats.Writes, stats.StaleRefused, stats.HighestToken));
        Assert.Equal(1, stats.WritesBy["counter-b"]);
        Assert.False(stats.WritesBy.ContainsKey("counter-a"));
    }

    [Fact]
    public async Task A_participant_that_left_is_refused()
    {
        var link = ClientLink.Local("counter-9");
        var value = await SharedObjectClient.DeclareAsync(_data, link, "left", SharedKind.Value, SharedScalar.Of(0));
        await value.SetAsync(SharedScalar.Of(1));
        Sys.EventStream.Publish(new ParticipantExited("counter-9", -15));
        await Assert.ThrowsAsync<ParticipantFencedException>(() => value.SetAsync(SharedScalar.Of(2)));
        await Assert.ThrowsAsync<ParticipantFencedException>(() => value.GetAsync());
        Assert.Equal(1, (await (await SharedObjectClient.DeclareAsync(_data, Link, "left", SharedKind.Value)).GetAsync()).AsInt());
    }

    [Fact]
    public async Task Sizes_are_bounded()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SharedObjectClient.DeclareAsync(_data, Link, "huge", SharedKind.Array, length: SharedData.MaxItems + 1));
        Assert.Contains("out of range", error.Message);
        var text = await SharedObjectClient.DeclareAsync(_data, Link, "text", SharedKind.Value);
        await Assert.ThrowsAsync<InvalidOperationException>(() => text.SetAsync(SharedScalar.Of(new string('x', SharedData.MaxTextBytes + 1))));
        await Assert.ThrowsAsync<InvalidOperationException>(() => SharedObjectClient.DeclareAsync(_data, Link, new string('n', 300), SharedKind.Dict));
    }
}
