using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class SharedDataSpec : SimSpec
{
    private readonly IActorRef _data;

    public SharedDataSpec() => _data = Sys.ActorOf(SharedData.Props());

    [Fact]
    public async Task Value_get_set_add_and_compare_and_set()
    {
        var value = await SharedObjectClient.DeclareAsync(_data, "v", SharedKind.Value, SharedScalar.Of(5));
        Assert.Equal(5, (await value.GetAsync()).AsInt());
        await value.SetAsync(SharedScalar.Of(7));
        Assert.Equal(8, (await value.AddAsync(1)).AsInt());
        Assert.False(await value.CompareAndSetAsync(SharedScalar.Of(7), SharedScalar.Of(100)));
        Assert.True(await value.CompareAndSetAsync(SharedScalar.Of(8), SharedScalar.Of(100)));
        Assert.Equal(100, (await value.GetAsync()).AsInt());
        // A second declaration of the same object finds it as it is.
        var again = await SharedObjectClient.DeclareAsync(_data, "v", SharedKind.Value, SharedScalar.Of(0));
        Assert.Equal(100, (await again.GetAsync()).AsInt());
    }

    [Fact]
    public async Task Array_list_dict_and_namespace()
    {
        var array = await SharedObjectClient.DeclareAsync(_data, "a", SharedKind.Array, SharedScalar.Of(0.0), length: 3);
        await array.SetAsync(SharedScalar.Of(2.5), "1");
        Assert.Equal(["0", "2.5", "0"], (await array.ItemsAsync()).Select(kv => kv.Value.ToString()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => array.SetAsync(SharedScalar.Of(1.0), "3"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => array.AppendAsync(SharedScalar.Of(1.0)));

        var list = await SharedObjectClient.DeclareAsync(_data, "l", SharedKind.List);
        Assert.Equal(1, await list.AppendAsync(SharedScalar.Of("x")));
        Assert.Equal(2, await list.AppendAsync(SharedScalar.Of("y")));
        Assert.Equal("'y'", (await list.GetAsync("1")).ToString());

        var dict = await SharedObjectClient.DeclareAsync(_data, "d", SharedKind.Dict);
        await dict.SetAsync(SharedScalar.Of(1), "one");
        Assert.Equal(2, (await dict.AddAsync(1, "one")).AsInt());
        Assert.Equal(5, (await dict.AddAsync(5, "new")).AsInt());
        await Assert.ThrowsAsync<InvalidOperationException>(() => dict.GetAsync("missing"));

        var ns = await SharedObjectClient.DeclareAsync(_data, "ns", SharedKind.Namespace);
        await ns.SetAsync(SharedScalar.Of("ready"), "state");
        Assert.Equal("ready", (await ns.GetAsync("state")).Text);

        await Assert.ThrowsAsync<InvalidOperationException>(() => SharedObjectClient.DeclareAsync(_data, "d", SharedKind.List));
    }

    [Fact]
    public async Task Read_then_write_from_many_clients_loses_updates_but_atomic_add_does_not()
    {
        var racy = await SharedObjectClient.DeclareAsync(_data, "racy", SharedKind.Value, SharedScalar.Of(0));
        var safe = await SharedObjectClient.DeclareAsync(_data, "safe", SharedKind.Value, SharedScalar.Of(0));
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
}
