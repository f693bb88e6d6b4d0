using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class PipeSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly IActorRef _registry;

    public PipeSpec() => _registry = Sys.ActorOf(PipeRegistry.Props());

    private async Task<(PipeConnection Zero, PipeConnection One)> OpenAsync(string name, bool duplex, string owner0 = "a", string owner1 = "b")
    {
        var zero = PipeConnection.OpenAsync(Sys, _registry, name, 0, duplex, owner0, Wait);
        var one = PipeConnection.OpenAsync(Sys, _registry, name, 1, duplex, owner1, Wait);
        return (await zero, await one);
    }

    [Fact]
    public async Task Messages_arrive_in_order_both_ways_on_a_duplex_pipe()
    {
        var (a, b) = await OpenAsync("p", duplex: true);
        for (var i = 0; i < 200; i++)
            await a.SendAsync($"a{i}");
        await b.SendAsync("from b");
        for (var i = 0; i < 200; i++)
            Assert.Equal($"a{i}", (await b.RecvAsync(Wait)).AsText());
        Assert.Equal("from b", (await a.RecvAsync(Wait)).AsText());
    }

    [Fact]
    public async Task Messages_sent_in_a_burst_reach_the_peer_in_order_one_by_one_or_batched()
    {
        var peer = CreateTestProbe();
        var flow = new PipeFlow(window: 10_000_000);
        const int burst = 2000;
        await Task.Run(() =>
        {
            for (var i = 1; i <= burst; i++)
                Assert.Equal(PipeFlow.Outcome.Sent, flow.TrySend(QueueItem.Text($"m{i}"), peer.Ref, TestActor));
        });
        var seen = new List<PipeData>();
        while (seen.Count < burst)
        {
            switch (peer.ExpectMsg<ISimMessage>(Wait))
            {
                case PipeData one:
                    seen.Add(one);
                    break;
                case PipeBatch batch:
                    Assert.InRange(batch.Messages.Count, 2, PipeFlow.BatchMessages);
                    seen.AddRange(batch.Messages);
                    break;
            }
        }
        Assert.Equal(Enumerable.Range(1, burst).Select(i => (long)i), seen.Select(d => d.Seq));
        Assert.Equal(Enumerable.Range(1, burst).Select(i => $"m{i}"), seen.Select(d => d.Item.AsText()));
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_batch_after_lost_messages_ends_the_stream_with_an_error()
    {
        // On the wire a batch's numbers are consecutive from its first; what can go missing is a whole message or batch.
        var (reader, writer) = await OpenAsync("gap", duplex: false);
        reader.Endpoint.Tell(new PipeBatch([new PipeData(QueueItem.Text("one"), 1, false), new PipeData(QueueItem.Text("two"), 2, false)]));
        reader.Endpoint.Tell(new PipeBatch([new PipeData(QueueItem.Text("five"), 5, false), new PipeData(QueueItem.Text("six"), 6, false)]));
        Assert.Equal("one", (await reader.RecvAsync(Wait)).AsText());
        Assert.Equal("two", (await reader.RecvAsync(Wait)).AsText());
        var lost = await Assert.ThrowsAsync<IOException>(() => reader.RecvAsync(Wait));
        Assert.Contains("3 to 4", lost.Message);
        GC.KeepAlive(writer);
    }

    [Fact]
    public async Task Poll_tells_whether_a_message_is_waiting_without_taking_it()
    {
        var (a, b) = await OpenAsync("p", duplex: true);
        Assert.False(await b.PollAsync(TimeSpan.Zero));
        Assert.False(await b.PollAsync(TimeSpan.FromMilliseconds(100)));
        var polling = b.PollAsync(Wait);
        await a.SendAsync("x");
        Assert.True(await polling);
        Assert.True(await b.PollAsync(TimeSpan.Zero));
        Assert.Equal("x", (await b.RecvAsync(Wait)).AsText());
        await Assert.ThrowsAsync<TimeoutException>(() => b.RecvAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task A_one_way_pipe_refuses_sends_on_its_receive_end_and_receives_on_its_send_end()
    {
        var (receiver, sender) = await OpenAsync("p", duplex: false);
        await Assert.ThrowsAsync<InvalidOperationException>(() => receiver.SendAsync("no"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => sender.RecvAsync(Wait));
        await sender.SendAsync("yes");
        Assert.Equal("yes", (await receiver.RecvAsync(Wait)).AsText());
        Assert.Contains("receive-only", receiver.ToString());
    }

    [Fact]
    public async Task After_the_peer_process_exits_buffered_messages_come_first_then_end_of_file()
    {
        var (a, b) = await OpenAsync("p", duplex: true, owner0: "pipe-a", owner1: "pipe-b");
        await b.SendAsync("last words");
        await AwaitAssertAsync(async () => Assert.True(await a.PollAsync(TimeSpan.Zero)));
        Sys.EventStream.Publish(new ParticipantExited("pipe-b", -9));
        Assert.Equal("last words", (await a.RecvAsync(Wait)).AsText());
        await Assert.ThrowsAsync<PipeEofException>(() => a.RecvAsync(Wait));
        // A recv already waiting when the peer goes is woken with end-of-file too.
        var (c, _) = await OpenAsync("q", duplex: true, owner0: "pipe-c", owner1: "pipe-d");
        var waiting = c.RecvAsync(Wait);
        Sys.EventStream.Publish(new ParticipantExited("pipe-d", -9));
        await Assert.ThrowsAsync<PipeEofException>(() => waiting);
    }

    [Fact]
    public async Task An_end_taken_by_someone_else_or_of_another_kind_is_refused()
    {
        var zero = PipeConnection.OpenAsync(Sys, _registry, "p", 0, true, "a", Wait);
        await Assert.ThrowsAsync<InvalidOperationException>(() => PipeConnection.OpenAsync(Sys, _registry, "p", 0, true, "intruder", Wait));
        await Assert.ThrowsAsync<InvalidOperationException>(() => PipeConnection.OpenAsync(Sys, _registry, "p", 1, false, "b", Wait));
        await PipeConnection.OpenAsync(Sys, _registry, "p", 1, true, "b", Wait);
        await zero;
    }
}
