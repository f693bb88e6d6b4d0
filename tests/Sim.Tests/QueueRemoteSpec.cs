using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>Queues across real Akka.Remote connections: two actor systems on loopback, Sim's real config.</summary>
public sealed class QueueRemoteSpec : TwoNodeSpec
{
    [Fact]
    public async Task Items_of_8_MiB_cross_the_wire_intact_as_bytes_and_as_text()
    {
        await using var producer = await ConnectAsync("producer-1");
        await using var consumer = await ConnectAsync("consumer-1");
        var sending = await producer.QueueAsync("big");
        var receiving = await consumer.QueueAsync("big");

        var bytes = new byte[QueueItem.MaxPayloadBytes];
        new Random(42).NextBytes(bytes);
        var text = new string('x', QueueItem.MaxPayloadBytes - 10) + "the end ✓";
        await sending.PutAsync(QueueItem.Bytes(bytes), TimeSpan.FromSeconds(30));
        await sending.PutAsync(text[..^2], TimeSpan.FromSeconds(30));
        await sending.PutManyAsync([QueueItem.Text("small-1"), QueueItem.Bytes(bytes), QueueItem.Text("small-2")], TimeSpan.FromSeconds(30));

        Assert.Equal(bytes, (await receiving.GetAsync(TimeSpan.FromSeconds(30))).Payload);
        Assert.Equal(text[..^2], (await receiving.GetAsync(TimeSpan.FromSeconds(30))).AsText());
        var rest = new List<QueueItem>();
        while (rest.Count < 3)
            rest.AddRange(await receiving.GetManyAsync(10, TimeSpan.FromSeconds(30)));
        Assert.Equal("small-1", rest[0].AsText());
        Assert.Equal(bytes, rest[1].Payload);
        Assert.Equal("small-2", rest[2].AsText());
    }

    [Fact]
    public async Task Pipe_messages_of_8_MiB_go_end_to_end_directly()
    {
        await using var a = await ConnectAsync("pipe-a");
        // The other end lives in the other actor system, so the messages cross a real connection.
        await using var b = await ConnectAsync("pipe-b", CoordinatorSystem);
        var openA = a.PipeAsync("big", 0, duplex: true, TimeSpan.FromSeconds(30));
        var endB = await b.PipeAsync("big", 1, duplex: true, TimeSpan.FromSeconds(30));
        var endA = await openA;
        var bytes = new byte[QueueItem.MaxPayloadBytes];
        new Random(7).NextBytes(bytes);
        await endA.SendAsync(QueueItem.Bytes(bytes));
        await endA.SendAsync("after");
        Assert.Equal(bytes, (await endB.RecvAsync(TimeSpan.FromSeconds(30))).Payload);
        Assert.Equal("after", (await endB.RecvAsync(TimeSpan.FromSeconds(30))).AsText());
    }

    [Fact]
    public async Task Many_small_items_arrive_once_each_in_order()
    {
        await using var producer = await ConnectAsync("producer-1");
        await using var consumer = await ConnectAsync("consumer-1");
        var sending = await producer.QueueAsync("stream", maxSize: 1000);
        var receiving = await consumer.QueueAsync("stream", maxSize: 1000);
        receiving.Prefetch = 100;
        const int count = 20_000;
        var put = Task.Run(async () =>
        {
            for (var i = 0; i < count; i += 100)
                await sending.PutManyAsync(Enumerable.Range(i, 100).Select(n => QueueItem.Text(n.ToString())).ToList(), TimeSpan.FromSeconds(30));
        });
        for (var expected = 0; expected < count; expected++)
            Assert.Equal(expected.ToString(), (await receiving.GetAsync(TimeSpan.FromSeconds(30))).AsText());
        await put;
        Assert.True(await receiving.EmptyAsync());
    }
}
