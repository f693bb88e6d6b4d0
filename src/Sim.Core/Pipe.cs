using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Remote;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>Register one end (0 or 1) of the named pipe; answered with <see cref="PipeConnected"/> once both ends are there.</summary>
public sealed record PipeOpen(string Pipe, int End, string Owner, IActorRef Endpoint, bool Duplex) : ISimMessage;

/// <summary>The other end's endpoint actor: from now on the two ends talk directly, with no broker between them.</summary>
public sealed record PipeConnected(string Pipe, IActorRef Peer) : ISimMessage;

public sealed record PipeRefused(string Reason) : ISimMessage;

/// <summary>
/// One message on the wire from one end to the other. <paramref name="Seq"/> numbers one direction's messages
/// from 1 (a gap means some were lost); <paramref name="AckWanted"/>: the sender has used half its window
/// and will soon wait for a <see cref="PipeAck"/>.
/// </summary>
public sealed record PipeData(QueueItem Item, long Seq, bool AckWanted) : ISimMessage;

/// <summary>
/// Messages of one direction sent together, in order, their <see cref="PipeData.Seq"/> consecutive: what a role sent
/// faster than one message at a time reached the transport (see <see cref="PipeFlow"/>).
/// </summary>
public sealed record PipeBatch(IReadOnlyList<PipeData> Messages) : ISimMessage;

/// <summary>Credit: the receiving role has taken <paramref name="Consumed"/> units (<see cref="PipeFlow.Cost"/>) in all from the pipe.</summary>
public sealed record PipeAck(long Consumed) : ISimMessage;

/// <summary>
/// Asked of the other end's endpoint: it answers <see cref="PipeDrained"/> on arrival, and since one connection
/// keeps its order, everything sent before has then reached the other end's process (see <see cref="PipeConnection.DrainAsync"/>).
/// </summary>
public sealed record PipeDrain(long Id) : ISimMessage;

public sealed record PipeDrained(long Id) : ISimMessage;

/// <summary>The other end was closed after sending <paramref name="Sent"/> messages: end-of-file once all of them are in.</summary>
public sealed record PipeClose(long Sent) : ISimMessage;

/// <summary>
/// The other end's process is gone: sends raise at once; recv raises end-of-file after every message that
/// left that process (see <see cref="PipeEndpoint"/> for how that is known).
/// </summary>
public sealed record PipePeerGone(string Pipe) : ISimMessage;

// Local to a node: the endpoint's peer, to watch and to tell of a close.
internal sealed record PipePeer(IActorRef Peer) : INoSerializationVerificationNeeded;

// ---- Actors ---------------------------------------------------------------------------------

/// <summary>
/// Where the two ends of each named pipe find each other (the coordinator plays the OS's part in
/// <c>os.pipe()</c>), and who tells an end at once that its peer's process has exited. A pipe is forgotten
/// once every end that opened it is gone (owner exited, or endpoint stopped), so its name can be used again.
/// </summary>
public sealed class PipeRegistry : ReceiveActor
{
    public const string Name = "pipes";

    private sealed class EndInfo(string owner, IActorRef endpoint, IActorRef replyTo, bool duplex)
    {
        public string Owner { get; } = owner;
        public IActorRef Endpoint { get; } = endpoint;
        public IActorRef ReplyTo { get; } = replyTo;
        public bool Duplex { get; } = duplex;
        public bool Gone { get; set; }
    }

    private readonly Dictionary<string, EndInfo?[]> _pipes = new(StringComparer.Ordinal);

    public static Props Props() => Akka.Actor.Props.Create(() => new PipeRegistry());

    public PipeRegistry()
    {
        Receive<PipeOpen>(Open);
        Receive<ParticipantExited>(m => EndAll((_, info) => info.Owner == m.Name));
        Receive<Terminated>(m => EndAll((_, info) => info.Endpoint.Equals(m.ActorRef)));
    }

    private void Open(PipeOpen m)
    {
        if (m.End is not (0 or 1))
        {
            Sender.Tell(new PipeRefused($"a pipe has ends 0 and 1, not {m.End}"));
            return;
        }
        if (!_pipes.TryGetValue(m.Pipe, out var ends))
            _pipes[m.Pipe] = ends = new EndInfo?[2];
        var refusal = ends[m.End] is { Gone: true }
            ? $"end {m.End} of pipe '{m.Pipe}' is closed; the name is free again once the other end is gone too"
            : ends[m.End] is { } taken && taken.Owner != m.Owner
                ? $"end {m.End} of pipe '{m.Pipe}' is already {taken.Owner}'s"
                : ends[1 - m.End] is { Gone: true }
                    ? $"the other end of pipe '{m.Pipe}' is already gone"
                    : ends[1 - m.End] is { } other && other.Duplex != m.Duplex
                        ? $"pipe '{m.Pipe}' is {(other.Duplex ? "duplex" : "one-way")} at the other end"
                        : null;
        if (refusal is not null)
        {
            Sender.Tell(new PipeRefused(refusal));
            return;
        }
        if (ends[m.End] is { } previous && !previous.Endpoint.Equals(m.Endpoint))
            Context.Unwatch(previous.Endpoint);
        ends[m.End] = new EndInfo(m.Owner, m.Endpoint, Sender, m.Duplex);
        // An endpoint that stops (closed, or its open timed out) must not be handed to a later peer.
        Context.Watch(m.Endpoint);
        if (ends[0] is { } zero && ends[1] is { } one)
        {
            zero.ReplyTo.Tell(new PipeConnected(m.Pipe, one.Endpoint));
            one.ReplyTo.Tell(new PipeConnected(m.Pipe, zero.Endpoint));
        }
    }

    private void EndAll(Func<string, EndInfo, bool> isGone)
    {
        var forgotten = new List<string>();
        foreach (var (pipe, ends) in _pipes)
        {
            for (var end = 0; end < 2; end++)
            {
                if (ends[end] is not { Gone: false } info || !isGone(pipe, info))
                    continue;
                info.Gone = true;
                if (ends[1 - end] is { Gone: false } survivor)
                    survivor.Endpoint.Tell(new PipePeerGone(pipe));
            }
            if (ends.All(e => e is null or { Gone: true }))
                forgotten.Add(pipe);
        }
        foreach (var pipe in forgotten)
        {
            foreach (var info in _pipes[pipe])
            {
                if (info is not null)
                    Context.Unwatch(info.Endpoint);
            }
            _pipes.Remove(pipe);
        }
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ParticipantExited));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <summary>The names it holds (for tests: a forgotten pipe is not among them).</summary>
    internal IReadOnlyList<string> Pipes => _pipes.Keys.ToArray();

    public override string ToString() => $"PipeRegistry(pipes={string.Join(",", _pipes.Keys)})";
}

/// <summary>
/// One end of a pipe, living in its participant's node: hands what the peer sent straight to its
/// <see cref="PipeConnection"/> through a channel (recv reads it without a round trip to this actor), takes the
/// peer's credit for the sending side, and turns the peer's end into end-of-file after its last message.
/// <para>
/// The news that the peer's process is gone (<see cref="PipePeerGone"/>) comes from the coordinator, over
/// another connection than the peer's messages, so it can overtake them. End-of-file therefore waits for a
/// sign on the peer's own connection that nothing more will come from it: its <see cref="PipeClose"/> with
/// the count it sent (a normal end), DeathWatch's <see cref="Terminated"/> (Akka queues it behind the messages
/// already received from that actor), or the end of the association to the peer's node
/// (<see cref="DisassociatedEvent"/>: the reader dispatches every message read from the socket before the
/// association's end is published). If none comes, end-of-file follows after a quiet grace.
/// </para>
/// </summary>
public sealed class PipeEndpoint : ReceiveActor, IWithTimers
{
    private sealed record GraceOver : INoSerializationVerificationNeeded
    {
        public static readonly GraceOver Instance = new();
    }

    private readonly string _pipe;
    private readonly ChannelWriter<PipeData> _received;
    private readonly PipeFlow _flow;
    private readonly TimeSpan _grace;
    private IActorRef? _peer;
    private long _lastSeq;
    private long? _finalSeq;
    private bool _peerGone;
    private bool _peerStopped;
    private bool _streamEnded;
    private bool _done;

    internal static Props Props(string pipe, ChannelWriter<PipeData> received, PipeFlow flow, TimeSpan grace) =>
        Akka.Actor.Props.CreateBy(new Producer(() => new PipeEndpoint(pipe, received, flow, grace)));

    // Props.Create finds public constructors only, and this one takes internal types.
    private sealed class Producer(Func<PipeEndpoint> create) : IIndirectActorProducer
    {
        public Type ActorType => typeof(PipeEndpoint);
        public ActorBase Produce() => create();
        public void Release(ActorBase actor) { }
    }

    private PipeEndpoint(string pipe, ChannelWriter<PipeData> received, PipeFlow flow, TimeSpan grace)
    {
        _pipe = pipe;
        _received = received;
        _flow = flow;
        _grace = grace;
        Receive<PipePeer>(m =>
        {
            _peer = m.Peer;
            Context.Watch(m.Peer);
        });
        Receive<PipeData>(Data);
        Receive<PipeBatch>(m =>
        {
            foreach (var data in m.Messages)
                Data(data);
        });
        Receive<PipeAck>(m => flow.Acked(m.Consumed));
        Receive<PipeDrain>(m => Sender.Tell(new PipeDrained(m.Id)));
        Receive<PipeClose>(m =>
        {
            flow.Break($"pipe '{pipe}': the other end is closed");
            _finalSeq = m.Sent;
            TryFinish();
        });
        Receive<PipePeerGone>(_ =>
        {
            flow.Break($"pipe '{pipe}': the other end's process is gone");
            _peerGone = true;
            TryFinish();
        });
        Receive<Terminated>(m =>
        {
            if (!m.ActorRef.Equals(_peer))
                return;
            flow.Break($"pipe '{pipe}': the other end is gone");
            _peerStopped = true;
            TryFinish();
        });
        Receive<DisassociatedEvent>(m =>
        {
            if (_peer is null || m.RemoteAddress != _peer.Path.Address)
                return;
            _streamEnded = true;
            TryFinish();
        });
        Receive<GraceOver>(_ => Finish());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private void Data(PipeData m)
    {
        if (_done)
            return;
        if (m.Seq != _lastSeq + 1)
        {
            Finish(new IOException($"pipe '{_pipe}': messages {_lastSeq + 1} to {m.Seq - 1} from the other end were lost on the way"));
            return;
        }
        _lastSeq = m.Seq;
        // A message after the association ended: it came back, so its end no longer says the stream is over.
        _streamEnded = false;
        _received.TryWrite(m);
        if (_peerGone || _finalSeq is not null)
            TryFinish();
    }

    private void TryFinish()
    {
        if (_done)
            return;
        if (_finalSeq is { } final && _lastSeq >= final || _peerStopped || _peerGone && _streamEnded)
            Finish();
        else if (_peerGone || _finalSeq is not null)
            Timers.StartSingleTimer(nameof(GraceOver), GraceOver.Instance, _grace); // restarted by every message
    }

    private void Finish(Exception? error = null)
    {
        _done = true;
        Timers.CancelAll();
        if (error is null && _finalSeq is { } final && _lastSeq < final)
            error = new IOException($"pipe '{_pipe}': the other end sent {final} messages, {_lastSeq} arrived");
        _received.TryComplete(error);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        _flow.Flush(); // what the role sent before, ahead of the close
        _flow.Break($"pipe '{_pipe}': this end is closed");
        _received.TryComplete();
        // Behind every message this end sent, on the same connection: the peer reads them all, then end-of-file.
        _peer?.Tell(new PipeClose(_flow.Sent));
    }
}

/// <summary>
/// The sending side's window, shared by a <see cref="PipeConnection"/> (which sends) and its
/// <see cref="PipeEndpoint"/> (which takes the peer's credit): at most <see cref="Window"/> units may be sent
/// and not yet taken by the receiving role, as an OS pipe's buffer; then send waits. One message larger than
/// the window goes when the window is not full, as an OS pipe takes a large write in parts.
/// <para>
/// A send with nothing queued and none in the last 50 us (a request, an answer) goes to the transport at once. A
/// send right after another (a stream) numbers the message and puts it in an outbox; a thread-pool turn, queued by the
/// send that found the outbox empty, tells the peer all that is there, one <see cref="PipeData"/> or one
/// <see cref="PipeBatch"/>: many messages to a remote message, as an OS pipe takes many writes into one buffer
/// (Akka.NET's remoting carried ~120,000 single pipe messages a second here, Python's pipe ~540,000).
/// </para>
/// </summary>
internal sealed class PipeFlow(long window)
{
    /// <summary>Per message on top of its payload: what the envelope costs in memory and on the wire, roughly.</summary>
    public const int MessageOverhead = 64;

    private readonly object _gate = new();
    private long _sent;
    private long _sentCost;
    private long _ackedCost;
    private string? _broken;
    private TaskCompletionSource? _credit;
    // Not empty exactly while a flush is queued: the send that finds it empty queues one.
    private readonly List<PipeData> _outbox = new();
    private IActorRef? _peer;
    private IActorRef? _endpoint;

    /// <summary>At most this much payload, and <see cref="BatchMessages"/> messages, in one <see cref="PipeBatch"/>: far below a frame.</summary>
    public const int BatchBytes = 64 * 1024;
    public const int BatchMessages = 1024;

    /// <summary>A send this long after the last one, with nothing queued, goes at once; closer sends are a stream and are batched.</summary>
    private static readonly long DirectGapTicks = Stopwatch.Frequency / 20_000; // 50 us
    private long _lastSendAt = long.MinValue / 2;

    public enum Outcome { Sent, Full, Broken }

    public long Window => window;

    public static long Cost(QueueItem item) => item.Payload.Length + MessageOverhead;

    public long Sent
    {
        get { lock (_gate) return _sent; }
    }

    /// <summary>Units sent and not yet taken by the other end's role.</summary>
    public long Unread
    {
        get { lock (_gate) return _sentCost - _ackedCost; }
    }

    public string? Broken
    {
        get { lock (_gate) return _broken; }
    }

    /// <summary>
    /// Numbers <paramref name="item"/> and queues it for the peer if the window has room (telling happens in
    /// <see cref="Flush"/>, under the same lock, so the order holds).
    /// </summary>
    public Outcome TrySend(QueueItem item, IActorRef peer, IActorRef endpoint)
    {
        bool schedule;
        lock (_gate)
        {
            if (_broken is not null)
                return Outcome.Broken;
            if (_sentCost - _ackedCost >= window)
                return Outcome.Full;
            _sentCost += Cost(item);
            (_peer, _endpoint) = (peer, endpoint);
            var data = new PipeData(item, ++_sent, _sentCost - _ackedCost >= window / 2);
            var now = Stopwatch.GetTimestamp();
            var alone = _outbox.Count == 0 && now - _lastSendAt >= DirectGapTicks;
            _lastSendAt = now;
            if (alone)
            {
                // Nothing sent just before: a request, an answer. Straight to the transport, no work item in between.
                peer.Tell(data, endpoint);
                return Outcome.Sent;
            }
            schedule = _outbox.Count == 0;
            _outbox.Add(data);
        }
        if (schedule)
            ThreadPool.UnsafeQueueUserWorkItem(static flow => flow.Flush(), this, preferLocal: true);
        return Outcome.Sent;
    }

    /// <summary>Tells the peer everything in the outbox, in order: one message, or batches of up to <see cref="BatchBytes"/> of payload.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_outbox.Count == 0)
                return;
            var start = 0;
            while (start < _outbox.Count)
            {
                var end = start + 1;
                long bytes = _outbox[start].Item.Payload.Length;
                while (end < _outbox.Count && end - start < BatchMessages && bytes + _outbox[end].Item.Payload.Length <= BatchBytes)
                    bytes += _outbox[end++].Item.Payload.Length;
                _peer!.Tell(end - start == 1 ? _outbox[start] : new PipeBatch(_outbox.GetRange(start, end - start)), _endpoint);
                start = end;
            }
            _outbox.Clear();
        }
    }

    /// <summary>Completes when the window has room or the pipe is broken (no lost wake-up: checked under the lock).</summary>
    public Task CreditAsync()
    {
        lock (_gate)
        {
            if (_broken is not null || _sentCost - _ackedCost < window)
                return Task.CompletedTask;
            return (_credit ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    public void Acked(long consumed)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _ackedCost = Math.Max(_ackedCost, consumed);
            if (_sentCost - _ackedCost < window)
                (wake, _credit) = (_credit, null);
        }
        wake?.TrySetResult();
    }

    public void Break(string reason)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _broken ??= reason;
            (wake, _credit) = (_credit, null);
        }
        wake?.TrySetResult();
    }
}

// ---- Client ---------------------------------------------------------------------------------

/// <summary>Python's <c>EOFError</c>: the other end is gone and nothing is left to receive.</summary>
public sealed class PipeEofException(string message) : Exception(message);

/// <summary>Python's <c>BrokenPipeError</c>: a send to an end that is closed or whose process is gone.</summary>
public sealed class PipeBrokenException(string message) : IOException(message);

/// <summary>
/// One end of a pipe, as Python's <c>Connection</c>: <see cref="SendAsync(QueueItem, TimeSpan?, CancellationToken)"/>,
/// <see cref="RecvAsync"/>, <see cref="PollAsync"/>, <see cref="Close"/>. Messages go straight to the peer's
/// endpoint actor, in order. A one-way pipe's end 0 only receives and end 1 only sends, as <c>Pipe(duplex=False)</c>.
/// </summary>
public sealed class PipeConnection
{
    /// <summary>
    /// What one direction may hold sent and not yet taken by the receiving role, in payload bytes plus 64 per
    /// message: two of the largest items, so a send after one of them does not wait for the reader.
    /// </summary>
    public const long DefaultWindow = 2L * QueueItem.MaxPayloadBytes;

    /// <summary>How long end-of-file waits for a gone peer's messages when its connection gives no sign of its end.</summary>
    public static readonly TimeSpan DefaultEofGrace = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Forever = TimeSpan.FromHours(24);
    private readonly ActorSystem _system;
    private readonly IActorRef _endpoint;
    private readonly IActorRef _peer;
    private readonly ChannelReader<PipeData> _received;
    private readonly PipeFlow _flow;

    /// <summary>This end's endpoint actor (for tests that speak the wire protocol to it).</summary>
    internal IActorRef Endpoint => _endpoint;
    private long _consumed;
    private long _consumedAcked;
    private long _drains;

    private PipeConnection(string pipe, int end, bool duplex, ActorSystem system, IActorRef endpoint, IActorRef peer,
        ChannelReader<PipeData> received, PipeFlow flow)
    {
        Pipe = pipe;
        End = end;
        Duplex = duplex;
        _system = system;
        _endpoint = endpoint;
        _peer = peer;
        _received = received;
        _flow = flow;
    }

    public string Pipe { get; }
    public int End { get; }
    public bool Duplex { get; }
    public bool Readable => Duplex || End == 0;
    public bool Writable => Duplex || End == 1;

    /// <summary>
    /// Opens <paramref name="end"/> of the named pipe and waits up to <paramref name="timeout"/> for the other end.
    /// <paramref name="window"/> bounds what this end's sends may have unread at the other end (<see cref="DefaultWindow"/>).
    /// </summary>
    public static async Task<PipeConnection> OpenAsync(ActorSystem system, IActorRef registry, string pipe, int end, bool duplex,
        string owner, TimeSpan timeout, long window = DefaultWindow, TimeSpan? eofGrace = null)
    {
        if (window <= 0)
            throw new ArgumentOutOfRangeException(nameof(window), window, "a pipe's window must be positive");
        // Unbounded: the sender's window bounds it. The endpoint actor is the only writer.
        var received = Channel.CreateUnbounded<PipeData>(new UnboundedChannelOptions { SingleWriter = true });
        var flow = new PipeFlow(window);
        var endpoint = system.ActorOf(PipeEndpoint.Props(pipe, received.Writer, flow, eofGrace ?? DefaultEofGrace),
            $"pipe-{Uri.EscapeDataString(pipe)}-{end}-{Guid.NewGuid():N}");
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
        return new PipeConnection(pipe, end, duplex, system, endpoint, connected.Peer, received.Reader, flow);
    }

    public Task SendAsync(string text, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        SendAsync(QueueItem.Text(text), timeout, cancellationToken);

    /// <summary>
    /// Hands the message to the transport towards the peer (at once, or with others sent meanwhile: see
    /// <see cref="PipeFlow"/>); returns without waiting for it to be received,
    /// unless the window is full: then waits up to <paramref name="timeout"/> (default: for ever) for the peer
    /// to read (<see cref="TimeoutException"/>). <see cref="PipeBrokenException"/> if the peer is gone or closed.
    /// </summary>
    public Task SendAsync(QueueItem item, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!Writable)
            return Task.FromException(new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only receives"));
        return _flow.TrySend(item, _peer, _endpoint) switch
        {
            PipeFlow.Outcome.Sent => Task.CompletedTask,
            PipeFlow.Outcome.Broken => Task.FromException(new PipeBrokenException(_flow.Broken!)),
            _ => SendWhenCreditAsync(item, timeout ?? Forever, cancellationToken),
        };
    }

    /// <summary>
    /// Waits until everything sent so far has reached the other end's process (not yet its role), as Python's
    /// <c>send</c> has put it into the OS pipe when it returns: a crash of this process after that loses none
    /// of it. <see cref="TimeoutException"/> after <paramref name="timeout"/> (default 10 s); <see cref="PipeBrokenException"/>
    /// if the other end is gone.
    /// </summary>
    public async Task DrainAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!Writable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only receives");
        if (_flow.Broken is { } broken)
            throw new PipeBrokenException(broken);
        var wait = timeout ?? TimeSpan.FromSeconds(10);
        _flow.Flush(); // the drain asked behind everything sent, not ahead of a queued flush
        try
        {
            await _peer.Ask<PipeDrained>(new PipeDrain(Interlocked.Increment(ref _drains)), wait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            if (_flow.Broken is { } gone)
                throw new PipeBrokenException(gone);
            throw new TimeoutException($"pipe '{Pipe}': what was sent did not reach the other end within {wait.TotalMilliseconds:0} ms");
        }
    }

    private async Task SendWhenCreditAsync(QueueItem item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            try
            {
                await _flow.CreditAsync().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException(
                    $"pipe '{Pipe}': the other end read too little within {timeout.TotalMilliseconds:0} ms; {_flow.Unread} of {_flow.Window} units unread");
            }
            switch (_flow.TrySend(item, _peer, _endpoint))
            {
                case PipeFlow.Outcome.Sent:
                    return;
                case PipeFlow.Outcome.Broken:
                    throw new PipeBrokenException(_flow.Broken!);
            }
        }
    }

    /// <summary>
    /// The next message; <see cref="PipeEofException"/> once the peer is gone and all it sent is read;
    /// <see cref="TimeoutException"/> if none came in time; <see cref="IOException"/> if messages were lost.
    /// </summary>
    public async Task<QueueItem> RecvAsync(TimeSpan? timeout = null)
    {
        if (!Readable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only sends");
        if (_received.TryRead(out var ready))
            return Taken(ready);
        var wait = timeout ?? Forever;
        if (!await WaitAsync(wait).ConfigureAwait(false))
            throw new TimeoutException($"pipe '{Pipe}': nothing received within {wait.TotalMilliseconds:0} ms");
        if (_received.TryRead(out var data))
            return Taken(data);
        if (_received.Completion.Exception?.InnerException is { } lost)
            throw new IOException(lost.Message, lost);
        throw new PipeEofException($"pipe '{Pipe}': the other end is gone");
    }

    /// <summary>Counts what the role took; acks when the sender asked and a quarter window was taken or nothing is left.</summary>
    private QueueItem Taken(PipeData data)
    {
        var consumed = Interlocked.Add(ref _consumed, PipeFlow.Cost(data.Item));
        // The sender, once blocked, has sent nothing after its last message, which asked for an ack: taking that
        // message leaves the buffer empty, so the ack goes. Below half a window nothing is asked, and nothing sent.
        if (data.AckWanted && (consumed - Volatile.Read(ref _consumedAcked) >= _flow.Window / 4 || _received.Count == 0))
        {
            Volatile.Write(ref _consumedAcked, consumed);
            _peer.Tell(new PipeAck(consumed), _endpoint);
        }
        return data.Item;
    }

    /// <summary>Whether a message (or end-of-file) is ready to be received, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<bool> PollAsync(TimeSpan timeout)
    {
        if (!Readable)
            throw new InvalidOperationException($"end {End} of one-way pipe '{Pipe}' only sends");
        return await WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Python's <c>close()</c>: this end stops; the other end reads what was sent, then end-of-file, and its
    /// sends raise <see cref="PipeBrokenException"/>. Sends here raise too.
    /// </summary>
    public void Close()
    {
        _flow.Break($"pipe '{Pipe}': this end is closed");
        _system.Stop(_endpoint);
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
        catch (IOException) when (_received.Completion.IsFaulted)
        {
            return true; // messages were lost: recv raises that
        }
    }

    public override string ToString() =>
        $"PipeConnection(pipe={Pipe}, end={End}, {(Duplex ? "duplex" : Readable ? "receive-only" : "send-only")}, buffered={_received.Count}, " +
        $"unread-by-peer={_flow.Unread}/{_flow.Window}{(_received.Completion.IsCompleted ? ", peer gone" : "")}{(_flow.Broken is { } b ? $", broken: {b}" : "")}";
}
