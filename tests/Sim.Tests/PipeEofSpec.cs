using Akka.Actor;
using Akka.TestKit;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// End-of-file, broken pipes and the bounded buffer of one pipe end, with the other end played by a test
/// probe so that the order in which its messages and the news of its death arrive is the test's choice.
/// </summary>
public sealed class PipeEofSpec : SimSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly IActorRef _registry;

    public PipeEofSpec() => _registry = Sys.ActorOf(PipeRegistry.Props());

    /// <summary>End 0 as a real connection; end 1 is <paramref name="peer"/>, which gets end 0's endpoint.</summary>
    private async Task<(PipeConnection Conn, IActorRef Endpoint)> OpenAgainstProbeAsync(string pipe, TestProbe peer,
        long window = PipeConnection.DefaultWindow, TimeSpan? eofGrace = null)
    {
        var opening = PipeConnection.OpenAsync(Sys, _registry, pipe, 0, true, "a-" + pipe, Wait, window, eofGrace);
        _registry.Tell(new PipeOpen(pipe, 1, "b-" + pipe, peer.Ref, true), peer.Ref);
        var endpoint = (await peer.ExpectMsgAsync<PipeConnected>(Wait)).Peer;
        return (await opening, endpoint);
    }

    private static PipeData Data(int seq) => new(QueueItem.Text($"m{seq}"), seq, false);

    [Fact]
    public async Task Messages_the_peer_sent_before_the_news_of_its_death_all_arrive_then_end_of_file()
    {
        const int k = 25;
        // Each way the peer's stream can be seen to end: its close with the count, DeathWatch, or a quiet grace.
        for (var iteration = 0; iteration < 30; iteration++)
        {
            var peer = CreateTestProbe();
            var (conn, endpoint) = await OpenAgainstProbeAsync($"p{iteration}", peer, eofGrace: TimeSpan.FromMilliseconds(300));
            // The coordinator's notice overtakes the peer's last messages, which are still on their way.
            endpoint.Tell(new PipePeerGone(conn.Pipe));
            for (var seq = 1; seq <= k; seq++)
                endpoint.Tell(Data(seq), peer.Ref);
            switch (iteration % 3)
            {
                case 0:
                    endpoint.Tell(new PipeClose(k), peer.Ref);
                    break;
                case 1:
                    Sys.Stop(peer.Ref);
                    break;
            }
            for (var seq = 1; seq <= k; seq++)
                Assert.Equal($"m{seq}", (await conn.RecvAsync(Wait)).AsText());
            await Assert.ThrowsAsync<PipeEofException>(() => conn.RecvAsync(Wait));
            await Assert.ThrowsAsync<PipeEofException>(() => conn.RecvAsync(TimeSpan.Zero));
        }
    }

    [Fact]
    public async Task End_of_file_waits_for_the_count_the_peer_closed_with()
    {
        var peer = CreateTestProbe();
        var (conn, endpoint) = await OpenAgainstProbeAsync("p", peer, eofGrace: Wait);
        endpoint.Tell(new PipePeerGone(conn.Pipe));
        endpoint.Tell(Data(1), peer.Ref);
        Assert.Equal("m1", (await conn.RecvAsync(Wait)).AsText());
        // Gone, but its stream has not ended: no end-of-file yet.
        await Assert.ThrowsAsync<TimeoutException>(() => conn.RecvAsync(TimeSpan.FromMilliseconds(300)));
        endpoint.Tell(new PipeClose(2), peer.Ref);
        await Assert.ThrowsAsync<TimeoutException>(() => conn.RecvAsync(TimeSpan.FromMilliseconds(300)));
        endpoint.Tell(Data(2), peer.Ref);
        Assert.Equal("m2", (await conn.RecvAsync(Wait)).AsText());
        await Assert.ThrowsAsync<PipeEofException>(() => conn.RecvAsync(Wait));
    }

    [Fact]
    public async Task Messages_lost_on_the_way_raise_an_error_instead_of_a_silent_end_of_file()
    {
        var peer = CreateTestProbe();
        var (conn, endpoint) = await OpenAgainstProbeAsync("p", peer);
        endpoint.Tell(Data(1), peer.Ref);
        endpoint.Tell(Data(3), peer.Ref);
        Assert.Equal("m1", (await conn.RecvAsync(Wait)).AsText());
        var lost = await Assert.ThrowsAsync<IOException>(() => conn.RecvAsync(Wait));
        Assert.Contains("2 to 2", lost.Message);

        var (closed, closedEndpoint) = await OpenAgainstProbeAsync("q", CreateTestProbe(), eofGrace: TimeSpan.FromMilliseconds(200));
        closedEndpoint.Tell(new PipeClose(4));
        var short1 = await Assert.ThrowsAsync<IOException>(() => closed.RecvAsync(Wait));
        Assert.Contains("sent 4 messages, 0 arrived", short1.Message);
    }

    [Fact]
    public async Task A_send_to_a_peer_that_is_gone_or_closed_raises_broken_pipe()
    {
        // The peer's process exits (the coordinator's notice).
        var a = PipeConnection.OpenAsync(Sys, _registry, "p", 0, true, "pipe-a", Wait);
        var b = await PipeConnection.OpenAsync(Sys, _registry, "p", 1, true, "pipe-b", Wait);
        var sender = await a;
        await sender.SendAsync("fine");
        Assert.Equal("fine", (await b.RecvAsync(Wait)).AsText());
        Sys.EventStream.Publish(new ParticipantExited("pipe-b", -9));
        await AwaitAssertAsync(async () => await Assert.ThrowsAsync<PipeBrokenException>(() => sender.SendAsync("into the void")), Wait);
        Assert.Contains("broken", sender.ToString());

        // The peer closes its end: what it sent before is read, then end-of-file; sends either way raise.
        var c = PipeConnection.OpenAsync(Sys, _registry, "q", 0, true, "pipe-c", Wait);
        var d = await PipeConnection.OpenAsync(Sys, _registry, "q", 1, true, "pipe-d", Wait);
        var survivor = await c;
        await d.SendAsync("last words");
        d.Close();
        await Assert.ThrowsAsync<PipeBrokenException>(() => d.SendAsync("after my own close"));
        Assert.Equal("last words", (await survivor.RecvAsync(Wait)).AsText());
        await Assert.ThrowsAsync<PipeEofException>(() => survivor.RecvAsync(Wait));
        await Assert.ThrowsAsync<PipeBrokenException>(() => survivor.SendAsync("to a closed end"));
        Assert.IsAssignableFrom<IOException>(new PipeBrokenException("as Python's BrokenPipeError, an OSError"));
    }

    [Fact]
    public async Task A_sender_blocked_on_a_full_buffer_is_woken_by_broken_pipe_when_the_peer_dies()
    {
        var a = PipeConnection.OpenAsync(Sys, _registry, "p", 0, true, "pipe-a", Wait, window: 1000);
        await PipeConnection.OpenAsync(Sys, _registry, "p", 1, true, "pipe-b", Wait, window: 1000);
        var sender = await a;
        await sender.SendAsync(QueueItem.Bytes(new byte[2000]));
        var blocked = sender.SendAsync("waits for room");
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted);
        Sys.EventStream.Publish(new ParticipantExited("pipe-b", -9));
        await Assert.ThrowsAsync<PipeBrokenException>(() => blocked.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_sender_blocks_when_the_buffer_is_full_goes_on_when_the_reader_reads_and_times_out_if_it_does_not()
    {
        // 100-byte messages cost 164 units each: a window of 1000 holds 7 unread, and the 8th send waits.
        for (var iteration = 0; iteration < 20; iteration++)
        {
            var pipe = $"p{iteration}";
            var opening = PipeConnection.OpenAsync(Sys, _registry, pipe, 0, false, "reader", Wait, window: 1000);
            var writer = await PipeConnection.OpenAsync(Sys, _registry, pipe, 1, false, "writer", Wait, window: 1000);
            var reader = await opening;
            QueueItem Message(int n) => QueueItem.Bytes([.. BitConverter.GetBytes(n), .. new byte[96]]);
            int Number(QueueItem item) => BitConverter.ToInt32(item.Payload);
            for (var n = 0; n < 7; n++)
                Assert.True(writer.SendAsync(Message(n)).IsCompletedSuccessfully, $"send {n} should not wait");
            var blocked = writer.SendAsync(Message(7), Wait);
            await Task.Delay(iteration == 0 ? 300 : 20);
            Assert.False(blocked.IsCompleted, "the 8th send should wait for the reader");
            await Assert.ThrowsAsync<TimeoutException>(() => writer.SendAsync(Message(99), TimeSpan.FromMilliseconds(100)));
            // Reading half the window's worth grants credit back.
            for (var n = 0; n < 4; n++)
                Assert.Equal(n, Number(await reader.RecvAsync(Wait)));
            await blocked.WaitAsync(Wait);
            // A stream through the small window arrives whole and in order, the writer pausing as needed.
            var streaming = Task.Run(async () =>
            {
                for (var n = 8; n < 60; n++)
                    await writer.SendAsync(Message(n), Wait);
            });
            for (var n = 4; n < 60; n++)
                Assert.Equal(n, Number(await reader.RecvAsync(Wait)));
            await streaming.WaitAsync(Wait);
        }
    }

    [Fact]
    public async Task A_message_larger_than_the_window_goes_alone_and_the_reader_frees_the_window_for_the_next()
    {
        var opening = PipeConnection.OpenAsync(Sys, _registry, "p", 0, false, "reader", Wait, window: 1000);
        var writer = await PipeConnection.OpenAsync(Sys, _registry, "p", 1, false, "writer", Wait, window: 1000);
        var reader = await opening;
        await writer.SendAsync(QueueItem.Bytes(new byte[5000]));
        var next = writer.SendAsync("small", Wait);
        await Task.Delay(200);
        Assert.False(next.IsCompleted);
        Assert.Equal(5000, (await reader.RecvAsync(Wait)).Payload.Length);
        await next.WaitAsync(Wait);
        Assert.Equal("small", (await reader.RecvAsync(Wait)).AsText());
    }

    [Fact]
    public async Task The_registry_forgets_a_pipe_once_both_ends_are_gone_and_the_name_opens_again()
    {
        var registry = ActorOfAsTestActorRef<PipeRegistry>(PipeRegistry.Props(), "pipes-under-test");
        for (var round = 0; round < 3; round++)
        {
            var a = PipeConnection.OpenAsync(Sys, registry, "p", 0, true, $"a{round}", Wait);
            var b = await PipeConnection.OpenAsync(Sys, registry, "p", 1, true, $"b{round}", Wait);
            var end0 = await a;
            await end0.SendAsync($"round {round}");
            Assert.Equal($"round {round}", (await b.RecvAsync(Wait)).AsText());
            Assert.Equal(new[] { "p" }, registry.UnderlyingActor.Pipes);
            // One end gone: the other still holds the name; the gone end cannot be taken over.
            Sys.EventStream.Publish(new ParticipantExited($"a{round}", 0));
            await AwaitAssertAsync(() => Assert.Equal(new[] { "p" }, registry.UnderlyingActor.Pipes), Wait);
            if (round == 0)
            {
                await AwaitAssertAsync(async () => await Assert.ThrowsAsync<InvalidOperationException>(
                    () => PipeConnection.OpenAsync(Sys, registry, "p", 0, true, "intruder", Wait)), Wait);
            }
            // Both gone, by exit or by close: forgotten.
            if (round % 2 == 0)
                Sys.EventStream.Publish(new ParticipantExited($"b{round}", 0));
            else
                b.Close();
            await AwaitAssertAsync(() => Assert.Empty(registry.UnderlyingActor.Pipes), Wait);
        }

        // An end whose owner died before its peer came is forgotten too: the newcomer meets a live end.
        var orphan = PipeConnection.OpenAsync(Sys, registry, "q", 0, true, "early", TimeSpan.FromSeconds(2));
        await AwaitAssertAsync(() => Assert.Equal(new[] { "q" }, registry.UnderlyingActor.Pipes), Wait);
        Sys.EventStream.Publish(new ParticipantExited("early", -9));
        await AwaitAssertAsync(() => Assert.Empty(registry.UnderlyingActor.Pipes), Wait);
        var late = PipeConnection.OpenAsync(Sys, registry, "q", 1, true, "late", Wait);
        var fresh = await PipeConnection.OpenAsync(Sys, registry, "q", 0, true, "fresh", Wait);
        var lateEnd = await late;
        await fresh.SendAsync("hello");
        Assert.Equal("hello", (await lateEnd.RecvAsync(Wait)).AsText());
        await Assert.ThrowsAsync<TimeoutException>(() => orphan);
    }
}
