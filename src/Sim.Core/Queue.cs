using System.Text;
using Akka.Actor;
using Akka.Event;

namespace Sim.Core;

// ---- Items ----------------------------------------------------------------------------------

public enum QueueItemKind : byte
{
    /// <summary>Python's <c>None</c>: the lesson's end-of-work sentinel.</summary>
    None = 0,
    Text = 1,
    Bytes = 2,
}

/// <summary>One item in a queue: text, bytes, or the sentinel <see cref="None"/>. Part of queue messages.</summary>
public sealed record QueueItem(QueueItemKind Kind, byte[] Payload)
{
    /// <summary>Largest payload one item may carry (the remote frame size is set above it, in hocon/akka.hocon).</summary>
    public const int MaxPayloadBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Puts and deliveries of many items stop at this many payload bytes per message (one larger item travels
    /// alone): messages stay short on the wire, so a big one does not hold up the small ones behind it.
    /// </summary>
    public const int MessageBytes = 1024 * 1024;

    public static readonly QueueItem None = new(QueueItemKind.None, []);

    public static QueueItem Text(string text) => Checked(new QueueItem(QueueItemKind.Text, Encoding.UTF8.GetBytes(text)));

    public static QueueItem Bytes(byte[] bytes) => Checked(new QueueItem(QueueItemKind.Bytes, bytes));

    public bool IsNone => Kind == QueueItemKind.None;

    public string AsText() => Kind == QueueItemKind.Text
        ? Encoding.UTF8.GetString(Payload)
        : throw new InvalidOperationException($"item is {Kind}, not text");

    public override string ToString() => Kind switch
    {
        QueueItemKind.None => "None",
        QueueItemKind.Text => Payload.Length <= 40 ? $"'{AsText()}'" : $"text({Payload.Length} bytes)",
        _ => $"bytes({Payload.Length})",
    };

    private static QueueItem Checked(QueueItem item) =>
        item.Payload.Length <= MaxPayloadBytes
            ? item
            : throw new ArgumentException($"queue item of {item.Payload.Length} bytes is larger than the {MaxPayloadBytes} bytes allowed");
}

/// <summary>An item handed to a consumer; joinable queues track it until the consumer's task_done.</summary>
public sealed record Delivery(long Id, QueueItem Item);

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Create the named queue if it does not exist (answered with <see cref="QueueDeclared"/>). <paramref name="Lease"/>, when
/// given (the run's own declaration; participants leave it null), sets the delivery lease of a joinable queue: see
/// <see cref="RenewDeliveries"/>.
/// </summary>
public sealed record DeclareQueue(string Queue, int MaxSize, bool Joinable, string Participant, TimeSpan? Lease = null) : IParticipantRequest;

/// <summary>The queue, and its delivery lease (zero: none), which its consumers' clients keep renewed.</summary>
public sealed record QueueDeclared(string Queue, IActorRef Ref, TimeSpan Lease = default) : ISimMessage;

/// <summary>Put items (a batch keeps their order); waits up to <paramref name="Timeout"/> for room when the queue is bounded.</summary>
public sealed record QueuePut(string Producer, IReadOnlyList<QueueItem> Items, TimeSpan Timeout) : IParticipantRequest
{
    string IParticipantRequest.Participant => Producer;
}

/// <summary>All items of the put are in the queue.</summary>
public sealed record QueuePutDone(int Count) : ISimMessage;

/// <summary>Python's <c>queue.Full</c>: only the first <paramref name="Accepted"/> items of the put went in.</summary>
public sealed record QueueFull(int Accepted) : ISimMessage;

/// <summary>
/// Up to <paramref name="Max"/> items for <paramref name="Consumer"/>; waits up to <paramref name="Timeout"/> for the first.
/// A client fetching ahead names itself (<paramref name="Client"/>, unique) and says how many sentinels it had received when
/// it sent this get: a get sent before its client learnt of a sentinel the queue already gave it is answered empty, so
/// fetching ahead never takes the next consumer's sentinel.
/// </summary>
public sealed record QueueGet(string Consumer, IActorRef Session, int Max, TimeSpan Timeout, long Client = 0, int SentinelsSeen = 0)
    : IParticipantRequest
{
    string IParticipantRequest.Participant => Consumer;
}

public sealed record QueueItems(IReadOnlyList<Delivery> Deliveries) : ISimMessage;

/// <summary>Python's <c>queue.Empty</c>: nothing arrived within the timeout.</summary>
public sealed record QueueEmpty : ISimMessage
{
    public static readonly QueueEmpty Instance = new();
}

/// <summary>The queue is closed (puts refused) or closed and drained (gets end).</summary>
public sealed record QueueClosed(string Queue) : ISimMessage;

/// <summary>
/// Mark these deliveries of the consumer done (joinable queues). Named, not counted: a consumer can only finish
/// what it was given and still holds, never an item handed on to another after it was fenced or its lease ran out.
/// With <paramref name="Ledger"/> set, the queue records in that ledger, for each delivery it marks done, the item id at the
/// same place in <paramref name="Record"/> (negative: nothing to record): an item's record and its task_done are one step,
/// taken only while the consumer still holds it, so an item handed on after a lease ran out is recorded once.
/// </summary>
public sealed record QueueTaskDone(string Consumer, IReadOnlyList<long> Deliveries, IReadOnlyList<long>? Record = null, IActorRef? Ledger = null)
    : IParticipantRequest
{
    string IParticipantRequest.Participant => Consumer;
}

/// <summary>
/// The deliveries still held are done; <paramref name="Lost"/> names those the consumer no longer held (their lease ran
/// out and they went to another consumer): neither done nor recorded.
/// </summary>
public sealed record QueueTaskDoneAck(long Unfinished, IReadOnlyList<long> Lost) : ISimMessage
{
    public QueueTaskDoneAck(long unfinished) : this(unfinished, [])
    {
    }
}

/// <summary>
/// The consumer's node is alive and still holds <paramref name="Held"/> (joinable queue with a delivery lease): their lease
/// starts again. A consumer that stops renewing (paused, cut off) loses what it holds when the lease runs out: the items go
/// back to the front of the queue. Answered with <see cref="DeliveriesRenewed"/>.
/// </summary>
public sealed record RenewDeliveries(string Consumer, long Client, IReadOnlyList<long> Held) : IParticipantRequest
{
    string IParticipantRequest.Participant => Consumer;
}

/// <summary>
/// <paramref name="Lost"/>: the deliveries named that the consumer no longer holds. <paramref name="WaitingGets"/>: how many
/// gets of the client wait at the queue (fewer than the client has outstanding: some were lost on the way, in a partition).
/// </summary>
public sealed record DeliveriesRenewed(IReadOnlyList<long> Lost, int WaitingGets) : ISimMessage;

public sealed record QueueError(string Reason) : ISimMessage;

/// <summary>Answered with <see cref="QueueJoined"/> once every item put has been marked done.</summary>
public sealed record QueueJoin(TimeSpan Timeout, string Participant) : IParticipantRequest;

public sealed record QueueJoined(string Queue) : ISimMessage;

public sealed record QueueJoinTimedOut(long Unfinished) : ISimMessage;

/// <summary>
/// Python's <c>Queue.close()</c> (<paramref name="Shutdown"/> false): <paramref name="Participant"/> puts no more, others still
/// may. With <paramref name="Shutdown"/> (Python 3.13's <c>shutdown()</c>) the whole queue takes no more puts; consumers drain
/// what is left, then learn it is closed. Answered with the queue's status.
/// </summary>
public sealed record CloseQueue(string Participant, bool Shutdown) : IParticipantRequest;

public sealed record GetQueueStatus : ISimMessage
{
    public static readonly GetQueueStatus Instance = new();
}

/// <summary>
/// Sizes as Python reports them (qsize is a snapshot), plus what Sim tracks on top. <paramref name="LeaseExpired"/> counts,
/// per consumer, the items that went back to the queue because its delivery lease ran out; <paramref name="LateTaskDones"/>,
/// the task_done calls for such items that came afterwards and were refused (nothing recorded).
/// </summary>
public sealed record QueueStatus(
    string Queue, int MaxSize, bool Joinable, bool Closed, int Size, long Unfinished, int InFlight, long Redelivered,
    IReadOnlyDictionary<string, long> PutBy, IReadOnlyDictionary<string, long>? LeaseExpired = null, long LateTaskDones = 0) : ISimMessage
{
    public IReadOnlyDictionary<string, long> LeaseExpiredBy => LeaseExpired ?? new Dictionary<string, long>();
}

// ---- Actors ---------------------------------------------------------------------------------

/// <summary>Hosts the named queues of a run: each queue is a child actor whose mailbox and buffer are the queue.</summary>
public sealed class QueueManager : FencingActor
{
    public const string Name = "queues";
    public const int MaxNameLength = 256;

    public static Props Props() => Akka.Actor.Props.Create(() => new QueueManager());

    // The queues are this actor's children: a Kill must not stop them either (see SimSupervision).
    protected override SupervisorStrategy SupervisorStrategy() => SimSupervision.Strategy;

    public QueueManager()
    {
        Receive<DeclareQueue>(m =>
        {
            if (string.IsNullOrWhiteSpace(m.Queue) || m.Queue.Length > MaxNameLength || m.MaxSize < 0)
            {
                Sender.Tell(new QueueError($"a queue needs a name of 1 to {MaxNameLength} characters and a maxsize >= 0, got '{m.Queue}', {m.MaxSize}"));
                return;
            }
            var child = Context.Child(Uri.EscapeDataString(m.Queue));
            if (child.IsNobody())
                child = Context.ActorOf(QueueActor.Props(m.Queue, m.MaxSize, m.Joinable), Uri.EscapeDataString(m.Queue));
            child.Forward(m); // the queue itself checks that the shape asked for is its own, and answers with its lease
        });
    }
}

/// <summary>
/// One queue with Python's <c>multiprocessing.Queue</c> semantics (maxsize with back-pressure, blocking
/// put/get with timeouts, close) and, when joinable, <c>JoinableQueue</c>'s unfinished-task count, task_done
/// and join. Better than Python: the items a consumer held when its process died go back to the queue.
/// </summary>
public sealed class QueueActor : FencingActor
{
    private sealed record Deadline(long WaitId) : INoSerializationVerificationNeeded;

    // Local reminder to itself: hand back what consumers stopped renewing.
    private sealed record LeaseSweep : INoSerializationVerificationNeeded
    {
        public static readonly LeaseSweep Instance = new();
    }

    /// <summary>Delivery leases that ran out are remembered, a bounded number, to tell a late task_done its items were lost.</summary>
    private const int MaxExpiredKept = 100_000;

    /// <summary>A delivery a consumer holds and has not marked done, and when its lease runs out (Stopwatch ticks).</summary>
    private sealed class Held(Delivery delivery, long expiresAt)
    {
        public Delivery Delivery { get; } = delivery;
        public long ExpiresAt { get; set; } = expiresAt;
    }

    // The run's history: puts accepted and items handed out, in this queue's order (what the total-queue checker reads).
    private readonly History.HistoryLog _history = History.HistoryLog.Of(Context.System);

    private sealed class PendingPut(long id, IActorRef replyTo, QueuePut put, ICancelable? timer)
    {
        public long Id { get; } = id;
        public IActorRef ReplyTo { get; } = replyTo;
        public QueuePut Put { get; } = put;
        public ICancelable? Timer { get; } = timer;
        public int Accepted { get; set; }
    }

    private sealed class PendingGet(long id, IActorRef replyTo, QueueGet get, ICancelable? timer)
    {
        public long Id { get; } = id;
        public IActorRef ReplyTo { get; } = replyTo;
        public QueueGet Get { get; } = get;
        public ICancelable? Timer { get; } = timer;
    }

    private readonly string _name;
    private readonly int _maxSize;
    private readonly bool _joinable;
    private readonly LinkedList<Delivery> _buffer = new();
    private readonly LinkedList<PendingPut> _puts = new();
    private readonly LinkedList<PendingGet> _gets = new();
    private readonly List<(IActorRef ReplyTo, ICancelable? Timer, long Id)> _joins = new();
    // Joinable: what each consumer holds and has not marked done.
    private readonly Dictionary<string, Dictionary<long, Held>> _inFlight = new(StringComparer.Ordinal);
    // Joinable with a lease: how long a consumer may hold items without renewing (zero: for as long as it lives).
    private TimeSpan _lease;
    private ICancelable? _leaseSweeps;
    private readonly Dictionary<string, long> _leaseExpired = new(StringComparer.Ordinal);
    private readonly HashSet<(long Delivery, string Consumer)> _expiredHoldings = new();
    private long _lateTaskDones;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // Items that went into the queue, per producer: what was really produced, whatever happened to the producer.
    private readonly Dictionary<string, long> _putBy = new(StringComparer.Ordinal);
    // Sentinels handed to each client that fetches ahead (see QueueGet).
    private readonly Dictionary<long, (string Consumer, int Count)> _sentinelsTo = new();
    private long _nextDeliveryId;
    private long _nextWaitId;
    private long _unfinished;
    private long _redelivered;
    private bool _closed;
    // Participants that closed their end (Python's close(): this process puts no more); names only, kept for the queue's life.
    private readonly HashSet<string> _closedFor = new(StringComparer.Ordinal);

    public static Props Props(string name, int maxSize, bool joinable) =>
        Akka.Actor.Props.Create(() => new QueueActor(name, maxSize, joinable));

    public QueueActor(string name, int maxSize, bool joinable)
    {
        _name = name;
        _maxSize = maxSize;
        _joinable = joinable;

        Receive<DeclareQueue>(OnDeclare);
        Receive<RenewDeliveries>(OnRenew);
        Receive<LeaseSweep>(_ => ExpireLeases());
        Receive<QueuePut>(OnPut);
        Receive<QueueGet>(OnGet);
        Receive<QueueTaskDone>(OnTaskDone);
        Receive<QueueJoin>(OnJoin);
        Receive<Deadline>(OnDeadline);
        Receive<CloseQueue>(m =>
        {
            if (m.Shutdown)
                _closed = true;
            else
                _closedFor.Add(m.Participant);
            // Producers still waiting for room will never get it (all of them, or the one that closed).
            foreach (var put in _puts.Where(p => m.Shutdown || p.Put.Producer == m.Participant).ToList())
            {
                put.Timer?.Cancel();
                put.ReplyTo.Tell(new QueueClosed(_name));
                _puts.Remove(put);
            }
            ServeGets();
            Sender.Tell(Status());
        });
        Receive<GetQueueStatus>(_ => Sender.Tell(Status()));
    }

    protected override void OnParticipantExited(ParticipantExited m) =>
        ParticipantGone(m.Name, $"participant exited with {m.ExitCode?.ToString() ?? "unknown code"}");

    private void OnDeclare(DeclareQueue m)
    {
        if (m.MaxSize != _maxSize || m.Joinable != _joinable)
        {
            Sender.Tell(new QueueError($"queue '{_name}' exists with maxsize {_maxSize}, joinable {_joinable}"));
            return;
        }
        if (m.Lease is { } lease && lease != _lease)
        {
            if (!_joinable && lease > TimeSpan.Zero)
            {
                Sender.Tell(new QueueError($"queue '{_name}' is not joinable: only a joinable queue's deliveries have a lease"));
                return;
            }
            _lease = lease < TimeSpan.Zero ? TimeSpan.Zero : lease;
            _leaseSweeps?.Cancel();
            _leaseSweeps = null;
            if (_lease > TimeSpan.Zero)
            {
                // A few sweeps per lease: an item goes back at most a quarter of a lease late.
                var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, _lease.Ticks / 4));
                _leaseSweeps = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(every, every, Self, LeaseSweep.Instance, Self);
            }
        }
        Sender.Tell(new QueueDeclared(_name, Self, _lease));
    }

    protected override void PostStop()
    {
        _leaseSweeps?.Cancel();
        base.PostStop();
    }

    private long LeaseEnd() => _lease > TimeSpan.Zero
        ? System.Diagnostics.Stopwatch.GetTimestamp() + (long)(_lease.TotalSeconds * System.Diagnostics.Stopwatch.Frequency)
        : long.MaxValue;

    private void OnRenew(RenewDeliveries m)
    {
        var held = _inFlight.GetValueOrDefault(m.Consumer);
        var end = LeaseEnd();
        List<long>? lost = null;
        foreach (var id in m.Held)
        {
            if (held is not null && held.TryGetValue(id, out var holding))
                holding.ExpiresAt = end;
            else
                (lost ??= new List<long>()).Add(id);
        }
        var waiting = 0;
        foreach (var get in _gets)
        {
            if (get.Get.Client == m.Client && get.Get.Consumer == m.Consumer)
                waiting++;
        }
        Sender.Tell(new DeliveriesRenewed((IReadOnlyList<long>?)lost ?? [], waiting));
    }

    /// <summary>Items whose consumer stopped renewing their lease (paused, cut off) go back to the front of the queue.</summary>
    private void ExpireLeases()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var returned = new List<Delivery>();
        foreach (var (consumer, held) in _inFlight)
        {
            var first = returned.Count;
            foreach (var (id, holding) in held)
            {
                if (holding.ExpiresAt > now)
                    continue;
                held.Remove(id);
                returned.Add(holding.Delivery);
                if (_expiredHoldings.Count < MaxExpiredKept)
                    _expiredHoldings.Add((id, consumer));
            }
            var expired = returned.Count - first;
            if (expired == 0)
                continue;
            _leaseExpired[consumer] = _leaseExpired.GetValueOrDefault(consumer) + expired;
            // The checker's excuse for the second delivery of these items.
            if (_history.Enabled)
                _history.Coordinator(consumer, History.HistoryOps.Queue, _name, "expire", History.HistoryType.Ok,
                    History.HistoryOps.ItemIds(returned.Skip(first).Select(d => d.Item).ToList()));
            _log.Warning("Queue {0}: the lease of {1} item(s) held by {2} ran out ({3} ms without renewal): they go back to the queue",
                _name, expired, consumer, _lease.TotalMilliseconds);
        }
        if (returned.Count == 0)
            return;
        foreach (var delivery in returned.OrderByDescending(d => d.Id))
            _buffer.AddFirst(delivery);
        _redelivered += returned.Count;
        ServeGets();
    }

    private int SentinelsGivenTo(long client) => _sentinelsTo.TryGetValue(client, out var given) ? given.Count : 0;

    private bool HasRoom => _maxSize == 0 || _buffer.Count < _maxSize;

    private void OnPut(QueuePut m)
    {
        if (_closed || _closedFor.Contains(m.Producer))
        {
            Sender.Tell(new QueueClosed(_name));
            return;
        }
        var pending = new PendingPut(++_nextWaitId, Sender, m, null);
        // Earlier producers waiting for room go first: the queue stays FIFO across producers.
        if (_puts.Count == 0)
            Accept(pending);
        if (pending.Accepted == m.Items.Count)
        {
            Sender.Tell(new QueuePutDone(m.Items.Count));
            ServeGets();
            return;
        }
        if (m.Timeout <= TimeSpan.Zero)
        {
            Sender.Tell(new QueueFull(pending.Accepted));
            ServeGets();
            return;
        }
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new Deadline(pending.Id), Self);
        var waiting = new PendingPut(pending.Id, Sender, m, timer) { Accepted = pending.Accepted };
        _puts.AddLast(waiting);
        ServeGets();
    }

    private void Accept(PendingPut put)
    {
        var before = put.Accepted;
        while (put.Accepted < put.Put.Items.Count && HasRoom)
        {
            _buffer.AddLast(new Delivery(++_nextDeliveryId, put.Put.Items[put.Accepted]));
            put.Accepted++;
        }
        var added = put.Accepted - before;
        if (added > 0)
        {
            _putBy[put.Put.Producer] = _putBy.GetValueOrDefault(put.Put.Producer) + added;
            if (_history.Enabled)
                _history.Coordinator(put.Put.Producer, History.HistoryOps.Queue, _name, "put", History.HistoryType.Ok,
                    History.HistoryOps.ItemIds(before == 0 && added == put.Put.Items.Count ? put.Put.Items : put.Put.Items.Skip(before).Take(added).ToList()));
        }
        if (_joinable)
            _unfinished += added;
    }

    private void OnGet(QueueGet m)
    {
        if (m.Max < 1)
        {
            Sender.Tell(new QueueError($"get needs max >= 1, got {m.Max}"));
            return;
        }
        if (m.Client != 0 && SentinelsGivenTo(m.Client) > m.SentinelsSeen)
        {
            Sender.Tell(QueueEmpty.Instance); // a fetch ahead that its client no longer wants (see QueueGet)
            return;
        }
        if (_buffer.Count > 0 && _gets.Count == 0)
        {
            Deliver(Sender, m);
            AdmitWaitingPuts();
            return;
        }
        if (_closed)
        {
            Sender.Tell(new QueueClosed(_name));
            return;
        }
        if (m.Timeout <= TimeSpan.Zero)
        {
            Sender.Tell(QueueEmpty.Instance);
            return;
        }
        var id = ++_nextWaitId;
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new Deadline(id), Self);
        _gets.AddLast(new PendingGet(id, Sender, m, timer));
    }

    private void Deliver(IActorRef replyTo, QueueGet get)
    {
        if (get.Client != 0 && SentinelsGivenTo(get.Client) > get.SentinelsSeen)
        {
            // Sent before its client saw the sentinel it was given: the items stay for the others.
            replyTo.Tell(QueueEmpty.Instance);
            return;
        }
        var deliveries = new List<Delivery>(Math.Min(get.Max, _buffer.Count));
        long bytes = 0;
        // One reply stays short: up to MessageBytes of payload, or one item whatever its size.
        while (deliveries.Count < get.Max && _buffer.First is { } first
               && (deliveries.Count == 0 || bytes + first.Value.Item.Payload.Length <= QueueItem.MessageBytes))
        {
            _buffer.RemoveFirst();
            deliveries.Add(first.Value);
            bytes += first.Value.Item.Payload.Length;
            // A sentinel ends a batch: each consumer must take exactly one, not its neighbour's.
            if (first.Value.Item.IsNone)
            {
                if (get.Client != 0)
                    _sentinelsTo[get.Client] = (get.Consumer, SentinelsGivenTo(get.Client) + 1);
                break;
            }
        }
        if (_joinable)
        {
            if (!_inFlight.TryGetValue(get.Consumer, out var held))
                _inFlight[get.Consumer] = held = new Dictionary<long, Held>();
            var end = LeaseEnd();
            foreach (var delivery in deliveries)
                held[delivery.Id] = new Held(delivery, end);
            WatchSession(get.Session, get.Consumer);
        }
        if (_history.Enabled)
            _history.Coordinator(get.Consumer, History.HistoryOps.Queue, _name, "get", History.HistoryType.Ok,
                History.HistoryOps.ItemIds(deliveries.Select(d => d.Item).ToList()));
        replyTo.Tell(new QueueItems(deliveries));
    }

    /// <summary>Hands buffered items to waiting consumers, oldest waiter first; closed and drained ends them.</summary>
    private void ServeGets()
    {
        while (_buffer.Count > 0 && _gets.First is { } first)
        {
            _gets.RemoveFirst();
            first.Value.Timer?.Cancel();
            Deliver(first.Value.ReplyTo, first.Value.Get);
        }
        if (_closed && _buffer.Count == 0)
        {
            foreach (var get in _gets)
            {
                get.Timer?.Cancel();
                get.ReplyTo.Tell(new QueueClosed(_name));
            }
            _gets.Clear();
        }
        AdmitWaitingPuts();
    }

    private void AdmitWaitingPuts()
    {
        var admitted = false;
        while (_puts.First is { } first && HasRoom)
        {
            Accept(first.Value);
            admitted = true;
            if (first.Value.Accepted < first.Value.Put.Items.Count)
                break;
            _puts.RemoveFirst();
            first.Value.Timer?.Cancel();
            first.Value.ReplyTo.Tell(new QueuePutDone(first.Value.Put.Items.Count));
        }
        if (admitted && _gets.Count > 0 && _buffer.Count > 0)
            ServeGets();
    }

    private void OnTaskDone(QueueTaskDone m)
    {
        if (!_joinable)
        {
            Sender.Tell(new QueueError($"queue '{_name}' is not joinable: task_done() has no meaning here"));
            return;
        }
        var held = _inFlight.GetValueOrDefault(m.Consumer);
        // Every delivery named must be this consumer's and unfinished, each named once, or one whose lease ran out while this
        // consumer held it (lost: neither done nor recorded); anything else refuses the whole call.
        var named = new HashSet<long>(m.Deliveries);
        // The common case, everything still held, allocates nothing more.
        List<long>? lostIds = null;
        foreach (var id in m.Deliveries)
        {
            if (held is null || !held.ContainsKey(id))
                (lostIds ??= new List<long>()).Add(id);
        }
        IReadOnlyList<long> lost = (IReadOnlyList<long>?)lostIds ?? [];
        if (m.Deliveries.Count == 0 || named.Count != m.Deliveries.Count || (m.Record is { } record && record.Count != m.Deliveries.Count)
            || lost.Any(id => !_expiredHoldings.Contains((id, m.Consumer))))
        {
            Sender.Tell(new QueueError(
                $"task_done() for item(s) not delivered to {m.Consumer} or already done ({held?.Count ?? 0} unfinished, {m.Deliveries.Count} named)"));
            return;
        }
        List<long>? recorded = m.Ledger is null ? null : new List<long>(m.Deliveries.Count);
        for (var i = 0; i < m.Deliveries.Count; i++)
        {
            if (held is null || !held.Remove(m.Deliveries[i]))
                continue;
            if (recorded is not null && m.Record![i] >= 0)
                recorded.Add(m.Record[i]);
        }
        _unfinished -= m.Deliveries.Count - lost.Count;
        _lateTaskDones += lost.Count;
        // In the ledger's mailbox before anyone can learn the items are done (a join's answer comes after this).
        if (recorded is { Count: > 0 })
            m.Ledger!.Tell(new ConsumedViaQueue(m.Consumer, recorded), ActorRefs.NoSender);
        Sender.Tell(new QueueTaskDoneAck(_unfinished, lost));
        if (_unfinished == 0)
            CompleteJoins();
    }

    private void OnJoin(QueueJoin m)
    {
        if (!_joinable)
        {
            Sender.Tell(new QueueError($"queue '{_name}' is not joinable"));
            return;
        }
        if (_unfinished == 0)
        {
            Sender.Tell(new QueueJoined(_name));
            return;
        }
        var id = ++_nextWaitId;
        var timer = m.Timeout <= TimeSpan.Zero
            ? null
            : Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new Deadline(id), Self);
        if (timer is null)
        {
            Sender.Tell(new QueueJoinTimedOut(_unfinished));
            return;
        }
        _joins.Add((Sender, timer, id));
    }

    private void CompleteJoins()
    {
        foreach (var (replyTo, timer, _) in _joins)
        {
            timer?.Cancel();
            replyTo.Tell(new QueueJoined(_name));
        }
        _joins.Clear();
    }

    private void OnDeadline(Deadline m)
    {
        if (_gets.FirstOrDefault(g => g.Id == m.WaitId) is { } get)
        {
            _gets.Remove(get);
            get.ReplyTo.Tell(QueueEmpty.Instance);
            return;
        }
        if (_puts.FirstOrDefault(p => p.Id == m.WaitId) is { } put)
        {
            _puts.Remove(put);
            put.ReplyTo.Tell(new QueueFull(put.Accepted));
            // The same producer's later puts waiting behind it fail with it: what a producer got into the
            // queue stays a prefix of what it put, even when it pipelines its puts.
            foreach (var later in _puts.Where(p => p.Put.Producer == put.Put.Producer).ToList())
            {
                _puts.Remove(later);
                later.Timer?.Cancel();
                later.ReplyTo.Tell(new QueueFull(later.Accepted));
            }
            // A producer that gave up no longer holds back the ones behind it.
            AdmitWaitingPuts();
            return;
        }
        var join = _joins.FindIndex(j => j.Id == m.WaitId);
        if (join >= 0)
        {
            _joins[join].ReplyTo.Tell(new QueueJoinTimedOut(_unfinished));
            _joins.RemoveAt(join);
        }
    }

    /// <summary>
    /// A participant is gone. Its waiting gets and puts go with it: the items of a put still waiting for room
    /// die with their producer, as the items in a Python producer's feeder buffer do (what it got in stays).
    /// Items it held as a consumer but never finished go back to the front, for the next consumer.
    /// </summary>
    private void ParticipantGone(string name, string why)
    {
        foreach (var get in _gets.Where(g => g.Get.Consumer == name).ToList())
        {
            get.Timer?.Cancel();
            _gets.Remove(get);
        }
        var abandoned = _puts.Where(p => p.Put.Producer == name).ToList();
        foreach (var put in abandoned)
        {
            put.Timer?.Cancel();
            _puts.Remove(put);
        }
        if (abandoned.Count > 0)
        {
            _log.Info("Queue {0}: {1} item(s) {2} was still waiting to put are dropped: {3}", _name,
                abandoned.Sum(p => p.Put.Items.Count - p.Accepted), name, why);
            AdmitWaitingPuts();
        }
        // Forget what only mattered while it lived: its clients' sentinel counts (its sessions: FencingActor).
        foreach (var client in _sentinelsTo.Where(s => s.Value.Consumer == name).Select(s => s.Key).ToList())
            _sentinelsTo.Remove(client);
        if (!_inFlight.Remove(name, out var held) || held.Count == 0)
            return;
        _log.Info("Queue {0}: {1} item(s) held by {2} go back to the queue: {3}", _name, held.Count, name, why);
        // Ids grow in the order items entered the queue: back to the front, in that order.
        foreach (var delivery in held.Values.Select(h => h.Delivery).OrderByDescending(d => d.Id))
            _buffer.AddFirst(delivery);
        _redelivered += held.Count;
        ServeGets();
    }

    private QueueStatus Status() =>
        new(_name, _maxSize, _joinable, _closed, _buffer.Count, _unfinished, _inFlight.Values.Sum(h => h.Count), _redelivered,
            _putBy.ToDictionary(StringComparer.Ordinal), _leaseExpired.ToDictionary(StringComparer.Ordinal), _lateTaskDones);
}
