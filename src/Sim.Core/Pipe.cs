using System.Threading.Channels;
using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>Register one end (0 or 1) of the named pipe; answered with <see cref="PipeConnected"/> once both ends are there.</summary>
public sealed record PipeOpen(string Pipe, int End, string Owner, IActorRef Endpoint, bool Duplex) : ISimMessage;

/// <summary>The other end's endpoint actor: from now on the two ends talk directly, with no broker between them.</summary>
public sealed record PipeConnected(string Pipe, IActorRef Peer) : ISimMessage;

public sealed record PipeRefused(string Reason) : ISimMessage;

/// <summary>One message on the wire from one end to the other.</summary>
public sealed record PipeData(QueueItem Item) : ISimMessage;

/// <summary>The other end's process is gone: after the buffered messages, recv raises end-of-file.</summary>
public sealed record PipePeerGone(string Pipe) : ISimMessage;

// Local to a node: who the endpoint watches for end-of-file.
internal sealed record PipePeer(IActorRef Peer) : INoSerializationVerificationNeeded;

// ---- Actors ---------------------------------------------------------------------------------

/// <summary>
/// Where the two ends of each named pipe find each other (the coordinator plays the OS's part in
/// <c>os.pipe()</c>), and who tells an end at once that its peer's process has exited.
/// </summary>
public sealed class PipeRegistry : ReceiveActor
{
    public const string Name = "pipes";

    private sealed record EndInfo(string Owner, IActorRef Endpoint, IActorRef ReplyTo, bool Duplex);

    private readonly Dictionary<string, EndInfo?[]> _pipes = new(StringComparer.Ordinal);

    public static Props Props() => Akka.Actor.Props.Create(() => new PipeRegistry());

    public PipeRegistry()
    {
        Receive<PipeOpen>(m =>
        {
            if (m.End is not (0 or 1))
            {
                Sender.Tell(new PipeRefused($"a pipe has ends 0 and 1, not {m.End}"));
                return;
            }
            if (!_pipes.TryGetValue(m.Pipe, out var ends))
                _pipes[m.Pipe] = ends = new EndInfo?[2];
            if (ends[m.End] is { } taken && taken.Owner != m.Owner)
            {
                Sender.Tell(new PipeRefused($"end {m.End} of pipe '{m.Pipe}' is already {taken.Owner}'s"));
                return;
            }
            if (ends[1 - m.End] is { } other && other.Duplex != m.Duplex)
            {
                Sender.Tell(new PipeRefused($"pipe '{m.Pipe}' is {(other.Duplex ? "duplex" : "one-way")} at the other end"));
                return;
            }
            ends[m.End] = new EndInfo(m.Owner, m.Endpoint, Sender, m.Duplex);
            if (ends[0] is { } zero && ends[1] is { } one)
            {
                zero.ReplyTo.Tell(new PipeConnected(m.Pipe, one.Endpoint));
                one.ReplyTo.Tell(new PipeConnected(m.Pipe, zero.Endpoint));
            }
        });
        Receive<ParticipantExited>(m =>
        {
            foreach (var (pipe, ends) in _pipes)
            {
                for (var end = 0; end < 2; end++)
                {
                    if (ends[end]?.Owner == m.Name && ends[1 - end] is { } survivor)
                        survivor.Endpoint.Tell(new PipePeerGone(pipe));
                }
            }
        });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ParticipantExited));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}

/// <summary>
/// One end of a pipe, living in its participant's node: hands what the peer sent straight to its
/// <see cref="PipeConnection"/> through a channel (recv reads it without a round trip to this actor), and
/// turns the peer's death (reported, or seen by DeathWatch) into end-of-file after the buffered messages.
/// </summary>
public sealed class PipeEndpoint : ReceiveActor
{
    public static Props Props(ChannelWriter<QueueItem> received) => Akka.Actor.Props.Create(() => new PipeEndpoint(received));

    public PipeEndpoint(ChannelWriter<QueueItem> received)
    {
        Receive<PipePeer>(m => Context.Watch(m.Peer));
        Receive<PipeData>(m => received.TryWrite(m.Item));
        Receive<PipePeerGone>(_ => received.TryComplete());
        Receive<Terminated>(_ => received.TryComplete());
    }
}

// ---- Client ---------------------------------------------------------------------------------

/// <summary>Python's <c>EOFError</c>: the other end is gone and nothing is left to receive.</summary>
public sealed class PipeEofException(string message) : Exception(message);

/// <summary>
/// One end of a pipe, as Python's <c>Connection</c>: <see cref="SendAsync"/>, <see cref="RecvAsync"/>,
/// <see cref="PollAsync"/>. Messages go straight to the peer's endpoint actor, in order. A one-way pipe's
/// end 0 only receives and end 1 only sends, as <c>Pipe(duplex=False)</c>.
/// </summary>
public sealed class PipeConnection
{
    private static readonly TimeSpan Forever = TimeSpan.FromHours(24);
    private readonly IActorRef _endpoint;
    private readonly IActorRef _peer;
    private readonly ChannelReader<QueueItem> _received;

    internal PipeConnection(string pipe, int end, bool duplex, IActorRef endpoint, IActorRef peer, ChannelReader<QueueItem> received)
    {
        Pipe = pipe;
        End = end;
        Duplex = duplex;
        _endpoint = endpoint;
        _peer = peer;
        _received = received;
    }

    public string Pipe { get; }
    public int End { get; }
    public bool Duplex { get; }
    public bool Readable => Duplex || End == 0;
    public bool Writable => Duplex || End == 1;

    /// <summary>Opens <paramref name="end"/> of the named pipe and waits up to <paramref name="timeout"/> for the other end.</summary>
    public static async Task<PipeConnection> OpenAsync(ActorSystem system, IActorRef registry, string pipe, int end, bool duplex,
        string owner, TimeSpan timeout)
    {
        // Unbounded, as an OS pipe's reader sees everything written; the endpoint actor is the only writer.
        var received = Channel.CreateUnbounded<QueueItem>(new UnboundedChannelOptions { SingleWriter = true });
        var endpoint = system.ActorOf(PipeEndpoint.Props(received.Writer), $"pipe-{Uri.EscapeDataString(pipe)}-{end}-{Guid.NewGuid():N}");
        object reply;
        try
        {
            reply = await registry.Ask<object>(new PipeOpen(pipe, end, owner, endpoint, duplex), timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            system.Stop(endpoint);
            throw new TimeoutException($"the other end of pipe '{pipe}' did not open within {timeout.TotalSeconds:0.#} s");
        }
        if (reply is not PipeConnected connected)
        {
            system.Stop(endpoint);
            throw new InvalidOperationException(reply is PipeRefused refused ? refused.Reason : $"unexpected reply: {reply}");
        }
        endpoint.Tell(new PipePeer(connected.Peer));
        return new PipeConnection(pipe, end, duplex, endpoint, connected.Peer, received.Reader);
    }

    public Task SendAsync(string text) => SendAsync(QueueItem.Text(text));

    /// <summary>Hands the message to the transport towards the peer; returns without waiting for it to be received.</summary>
    public Task SendAsync(QueueItem item)
    {
        if (!Writable)
            return Task.FromException(new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only receives"));
        _peer.Tell(new PipeData(item), _endpoint);
        return Task.CompletedTask;
    }

    /// <summary>The next message; <see cref="PipeEofException"/> once the peer is gone and all is read; <see cref="TimeoutException"/> if none came in time.</summary>
    public async Task<QueueItem> RecvAsync(TimeSpan? timeout = null)
    {
        if (!Readable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only sends");
        if (_received.TryRead(out var ready))
            return ready;
        var wait = timeout ?? Forever;
        if (!await WaitAsync(wait).ConfigureAwait(false))
            throw new TimeoutException($"pipe '{Pipe}': nothing received within {wait.TotalMilliseconds:0} ms");
        return _received.TryRead(out var item) ? item : throw new PipeEofException($"pipe '{Pipe}': the other end is gone");
    }

    /// <summary>Whether a message (or end-of-file) is ready to be received, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<bool> PollAsync(TimeSpan timeout)
    {
        if (!Readable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only sends");
        return await WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>True once a message or end-of-file is there, false if neither came within <paramref name="timeout"/>.</summary>
    private async Task<bool> WaitAsync(TimeSpan timeout)
    {
        if (_received.TryPeek(out _) || _received.Completion.IsCompleted)
            return true;
        if (timeout <= TimeSpan.Zero)
            return false;
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await _received.WaitToReadAsync(timer.Token).ConfigureAwait(false); // false means end-of-file: ready too
            return true;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            return false;
        }
    }

    public override string ToString() =>
        $"PipeConnection(pipe={Pipe}, end={End}, {(Duplex ? "duplex" : Readable ? "receive-only" : "send-only")}, buffered={_received.Count}{(_received.Completion.IsCompleted ? ", peer gone" : "")})";
}
