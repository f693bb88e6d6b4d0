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

// Local to a node: the client asking its own endpoint actor.
internal sealed record PipeRecv(TimeSpan Timeout, bool Peek) : INoSerializationVerificationNeeded;

internal sealed record PipeReceived(QueueItem? Item, bool Eof) : INoSerializationVerificationNeeded;

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
/// One end of a pipe, living in its participant's node: buffers what the peer sent, answers the local
/// recv/poll calls, and turns the peer's death (reported, or seen by DeathWatch) into end-of-file.
/// </summary>
public sealed class PipeEndpoint : ReceiveActor
{
    private sealed record Deadline(long Id) : INoSerializationVerificationNeeded;

    private readonly Queue<QueueItem> _buffer = new();
    private readonly LinkedList<(long Id, PipeRecv Request, IActorRef ReplyTo, ICancelable? Timer)> _waiting = new();
    private long _nextId;
    private bool _eof;

    public static Props Props() => Akka.Actor.Props.Create(() => new PipeEndpoint());

    public PipeEndpoint()
    {
        Receive<PipePeer>(m => Context.Watch(m.Peer));
        Receive<PipeData>(m =>
        {
            _buffer.Enqueue(m.Item);
            Serve();
        });
        Receive<PipePeerGone>(_ => EndOfFile());
        Receive<Terminated>(_ => EndOfFile());
        Receive<PipeRecv>(m =>
        {
            if (_buffer.Count > 0 || _eof || m.Timeout <= TimeSpan.Zero)
            {
                Sender.Tell(Take(m.Peek));
                return;
            }
            var id = ++_nextId;
            var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new Deadline(id), Self);
            _waiting.AddLast((id, m, Sender, timer));
        });
        Receive<Deadline>(m =>
        {
            for (var node = _waiting.First; node is not null; node = node.Next)
            {
                if (node.Value.Id != m.Id)
                    continue;
                _waiting.Remove(node);
                node.Value.ReplyTo.Tell(new PipeReceived(null, false));
                return;
            }
        });
    }

    private PipeReceived Take(bool peek) =>
        _buffer.Count > 0 ? new PipeReceived(peek ? _buffer.Peek() : _buffer.Dequeue(), false) : new PipeReceived(null, _eof);

    private void Serve()
    {
        while (_waiting.First is { } first && (_buffer.Count > 0 || _eof))
        {
            _waiting.RemoveFirst();
            first.Value.Timer?.Cancel();
            first.Value.ReplyTo.Tell(Take(first.Value.Request.Peek));
        }
    }

    private void EndOfFile()
    {
        _eof = true;
        Serve();
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

    internal PipeConnection(string pipe, int end, bool duplex, IActorRef endpoint, IActorRef peer)
    {
        Pipe = pipe;
        End = end;
        Duplex = duplex;
        _endpoint = endpoint;
        _peer = peer;
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
        var endpoint = system.ActorOf(PipeEndpoint.Props(), $"pipe-{Uri.EscapeDataString(pipe)}-{end}-{Guid.NewGuid():N}");
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
        return new PipeConnection(pipe, end, duplex, endpoint, connected.Peer);
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
        var wait = timeout ?? Forever;
        var reply = await _endpoint.Ask<PipeReceived>(new PipeRecv(wait, false), wait + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return reply.Item ?? (reply.Eof
            ? throw new PipeEofException($"pipe '{Pipe}': the other end is gone")
            : throw new TimeoutException($"pipe '{Pipe}': nothing received within {wait.TotalMilliseconds:0} ms"));
    }

    /// <summary>Whether a message (or end-of-file) is ready to be received, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<bool> PollAsync(TimeSpan timeout)
    {
        if (!Readable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only sends");
        var reply = await _endpoint.Ask<PipeReceived>(new PipeRecv(timeout, true), timeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return reply.Item is not null || reply.Eof;
    }

    public override string ToString() => $"PipeConnection(pipe={Pipe}, end={End}, {(Duplex ? "duplex" : Readable ? "receive-only" : "send-only")})";
}
