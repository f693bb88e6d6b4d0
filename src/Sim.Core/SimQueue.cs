using Akka.Actor;

namespace Sim.Core;

/// <summary>Python's <c>queue.Empty</c>: no item came within the timeout.</summary>
public sealed class QueueEmptyException(string message) : Exception(message);

/// <summary>The items named were handed to another consumer after this one's delivery lease ran out: they are not done here.</summary>
public sealed class DeliveryLostException(string message) : InvalidOperationException(message);

/// <summary>Python's <c>queue.Full</c>: no room came within the timeout.</summary>
public sealed class QueueFullException(string message) : Exception(message);

/// <summary>The queue was closed: no more puts; a get after the last item ends with this.</summary>
public sealed class QueueClosedException(string message) : Exception(message);

/// <summary>
/// Role-side client of one <see cref="QueueActor"/>, in the spirit of <c>multiprocessing.Queue</c>:
/// <c>await queue.PutAsync(item)</c>, <c>await queue.GetAsync(timeout)</c>. A timeout of null waits
/// as long as the queue allows (24 h); zero is the <c>*_nowait</c> form.
/// </summary>
public class SimQueue
{
    private static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Forever = TimeSpan.FromHours(24);

    private readonly Queue<Delivery> _prefetched = new();

    protected SimQueue(QueueDeclared declared, int maxSize, ClientLink link, IActorRef session)
    {
        Ref = declared.Ref;
        Name = declared.Queue;
        MaxSize = maxSize;
        Lease = declared.Lease;
        Link = link;
        Session = session;
    }

    public IActorRef Ref { get; }
    public string Name { get; }
    public int MaxSize { get; }

    /// <summary>
    /// The queue's delivery lease (joinable queues; zero: none): what this consumer holds goes back to the queue unless its
    /// node renews it within the lease, which it does by itself while it runs.
    /// </summary>
    public TimeSpan Lease { get; }

    public string Owner => Link.Participant;
    protected ClientLink Link { get; }
    protected IActorRef Session { get; }

    /// <summary>
    /// How many items a get fetches and keeps here for the next GetAsync calls. Above 1 the client also gets
    /// ahead: while the caller works on what it took, the next batches are already on their way. Items fetched
    /// ahead belong to this consumer: on a plain queue they are lost if it stops early (as items in a Python
    /// consumer's pipe buffer), on a joinable queue they go back to the queue when its process ends. A sentinel
    /// ends fetching ahead, and the queue refuses fetches sent before the client saw it, so each consumer takes
    /// one sentinel.
    /// </summary>
    public int Prefetch { get; set; } = 1;

    /// <summary>Most fetches of <see cref="Prefetch"/> items on the wire at once (with Prefetch above 1).</summary>
    public int FetchWindow { get; set; } = 4;

    /// <summary>Most items one put message carries (<see cref="PutManyAsync"/> splits longer sequences).</summary>
    public int PutBatch { get; set; } = 1000;

    /// <summary>How many put messages <see cref="PutManyAsync"/> keeps on the wire unanswered: latency hidden, memory bounded.</summary>
    public int PutWindow { get; set; } = 4;

    private static long _nextClientId;

    // Names this client to the queue, for the sentinel rule of fetching ahead and to count its waiting gets.
    protected long ClientId { get; } = Interlocked.Increment(ref _nextClientId) ^ ((long)Environment.ProcessId << 32);
    private readonly Queue<Task<object>> _ahead = new();
    // With a lease: fetches on the wire (by number, with when each went out), and what abandons them when the queue no longer
    // knows of them (lost in a partition).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, long> _fetchesOut = new();
    private long _nextFetch;
    private CancellationTokenSource _abandonFetches = new();
    private int _sentinelsSeen;
    private bool _endSeen;

    /// <summary>Creates the queue on the coordinator if needed (same name, same maxsize) and returns a client of it.</summary>
    public static async Task<SimQueue> DeclareAsync(IActorRef manager, string name, int maxSize, ClientLink link, IActorRef session,
        CancellationToken cancellationToken = default) =>
        new(await DeclareRefAsync(manager, name, maxSize, false, link, null, cancellationToken).ConfigureAwait(false), maxSize, link, session);

    protected static async Task<QueueDeclared> DeclareRefAsync(IActorRef manager, string name, int maxSize, bool joinable, ClientLink link,
        TimeSpan? lease, CancellationToken cancellationToken) =>
        await link.AskAsync(manager, new DeclareQueue(name, maxSize, joinable, link.Participant, lease), ReplyGrace, cancellationToken)
            .ConfigureAwait(false) switch
        {
            QueueDeclared d => d,
            QueueError e => throw new InvalidOperationException(e.Reason),
            var other => throw new InvalidOperationException($"unexpected reply to declare '{name}': {other}"),
        };

    public Task PutAsync(QueueItem item, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        PutManyAsync([item], timeout, cancellationToken);

    public Task PutAsync(string text, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        PutAsync(QueueItem.Text(text), timeout, cancellationToken);

    public Task PutNowaitAsync(QueueItem item, CancellationToken cancellationToken = default) => PutAsync(item, TimeSpan.Zero, cancellationToken);

    /// <summary>
    /// Puts items in order, <see cref="PutBatch"/> per message with up to <see cref="PutWindow"/> messages
    /// unanswered: the fast way to stream many items (the sequence is read lazily, so producing overlaps
    /// sending). Returns when every item is in the queue; on a timeout the queue keeps the items that went in
    /// before it and refuses the rest, so what went in is always a prefix of the sequence.
    /// </summary>
    public async Task PutManyAsync(IEnumerable<QueueItem> items, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (_closedHere)
            throw new QueueClosedException($"queue '{Name}' was closed by {Owner}: it puts no more (Python's ValueError: Queue is closed)");
        var wait = timeout ?? Forever;
        var pending = new Queue<(Task<object> Reply, int Count)>();
        var accepted = 0L;
        QueueFailure? failure = null;
        async Task CompleteOldestAsync()
        {
            var (reply, count) = pending.Dequeue();
            switch (await reply.ConfigureAwait(false))
            {
                case QueuePutDone:
                    accepted += count;
                    break;
                case QueueFull full:
                    accepted += full.Accepted;
                    failure ??= new QueueFailure(new QueueFullException(
                        $"queue '{Name}' (maxsize {MaxSize}) stayed full for {wait.TotalMilliseconds:0} ms"));
                    break;
                case QueueClosed:
                    failure ??= new QueueFailure(new QueueClosedException($"queue '{Name}' is closed"));
                    break;
                case var other:
                    failure ??= new QueueFailure(new InvalidOperationException($"unexpected reply to put on '{Name}': {other}"));
                    break;
            }
        }

        var batch = new List<QueueItem>();
        long bytes = 0;
        var batchLimit = Math.Max(1, PutBatch);
        foreach (var item in items)
        {
            if (batch.Count > 0 && (batch.Count >= batchLimit || bytes + item.Payload.Length > QueueItem.MessageBytes))
            {
                cancellationToken.ThrowIfCancellationRequested();
                while (pending.Count >= Math.Max(1, PutWindow) && failure is null)
                    await CompleteOldestAsync().ConfigureAwait(false);
                if (failure is not null)
                    break;
                pending.Enqueue((Link.AskAsync(Ref, new QueuePut(Owner, batch, wait), wait + ReplyGrace, cancellationToken), batch.Count));
                batch = new List<QueueItem>();
                bytes = 0;
            }
            batch.Add(item);
            bytes += item.Payload.Length;
        }
        if (batch.Count > 0 && failure is null)
            pending.Enqueue((Link.AskAsync(Ref, new QueuePut(Owner, batch, wait), wait + ReplyGrace, cancellationToken), batch.Count));
        while (pending.Count > 0)
            await CompleteOldestAsync().ConfigureAwait(false);
        if (failure is not null)
            throw failure.With(accepted);
    }

    private sealed record QueueFailure(Exception Error)
    {
        public Exception With(long accepted) => Error switch
        {
            QueueFullException full => new QueueFullException($"{full.Message}; {accepted} item(s) of this put went in"),
            _ => Error,
        };
    }

    public async Task<QueueItem> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await GetDeliveriesAsync(1, timeout, cancellationToken).ConfigureAwait(false))[0].Item;

    public Task<QueueItem> GetNowaitAsync(CancellationToken cancellationToken = default) => GetAsync(TimeSpan.Zero, cancellationToken);

    /// <summary>Up to <paramref name="max"/> items, waiting up to <paramref name="timeout"/> for the first.</summary>
    public async Task<IReadOnlyList<QueueItem>> GetManyAsync(int max, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await GetDeliveriesAsync(max, timeout, cancellationToken).ConfigureAwait(false)).Select(d => d.Item).ToList();

    protected virtual async Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(int max, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var wait = timeout ?? Forever;
        if (PrefetchedCount == 0)
            await FillAsync(max, wait, cancellationToken).ConfigureAwait(false);
        List<Delivery> taken;
        lock (_prefetched)
        {
            taken = new List<Delivery>(Math.Min(max, _prefetched.Count));
            while (taken.Count < max && _prefetched.TryDequeue(out var next))
                taken.Add(next);
        }
        // Get ahead while the caller works, unless the end (a sentinel, or closed) is already here.
        while (Prefetch > 1 && !_endSeen && _ahead.Count < Math.Max(1, FetchWindow) && PrefetchedCount < Prefetch)
            _ahead.Enqueue(Fetch(Prefetch, wait));
        return taken;
    }

    private int PrefetchedCount
    {
        get
        {
            lock (_prefetched)
                return _prefetched.Count;
        }
    }

    /// <summary>
    /// With a lease: every delivery that reached this client and is not finished, wherever it waits (an answer fetched ahead, the
    /// prefetched items, the caller's hands, a task_done on the wire). What the lease keeper renews.
    /// </summary>
    protected System.Collections.Concurrent.ConcurrentDictionary<long, byte> Holding { get; } = new();

    /// <summary>Forgets fetched items the queue says this consumer no longer holds (their lease ran out): the caller never gets them.</summary>
    protected int DropPrefetched(IReadOnlyCollection<long> lost)
    {
        var gone = lost as ISet<long> ?? new HashSet<long>(lost);
        foreach (var id in gone)
            Holding.TryRemove(id, out _);
        lock (_prefetched)
        {
            var before = _prefetched.Count;
            var kept = _prefetched.Where(d => !gone.Contains(d.Id)).ToList();
            _prefetched.Clear();
            foreach (var delivery in kept)
                _prefetched.Enqueue(delivery);
            return before - kept.Count;
        }
    }

    /// <summary>The fetches on the wire now, by number, with when each went out (Stopwatch ticks; kept only with a lease).</summary>
    protected IReadOnlyDictionary<long, long> FetchesOut => new Dictionary<long, long>(_fetchesOut);

    protected bool IsFetchOut(long fetch) => _fetchesOut.ContainsKey(fetch);

    protected bool IsFetching => !_fetchesOut.IsEmpty;

    /// <summary>
    /// Gives up the fetches on the wire: each ends as if the queue had stayed empty, and the caller fetches again. Only with a
    /// lease, where it is safe: a fetch the queue still serves later hands its items to nobody, and their lease brings them back.
    /// </summary>
    protected void AbandonFetches()
    {
        CancellationTokenSource old;
        lock (_ahead)
            (old, _abandonFetches) = (_abandonFetches, new CancellationTokenSource());
        old.Cancel();
    }

    // Fetches are not tied to one caller's cancellation (a later call takes what they bring), only to the link's end.
    private Task<object> Fetch(int max, TimeSpan wait)
    {
        var ask = Link.AskAsync(Ref, new QueueGet(Owner, Session, max, wait, ClientId, _sentinelsSeen), wait + ReplyGrace);
        return Lease > TimeSpan.Zero ? AbandonableAsync(ask) : ask;
    }

    private async Task<object> AbandonableAsync(Task<object> ask)
    {
        CancellationToken abandon;
        lock (_ahead)
            abandon = _abandonFetches.Token;
        var fetch = Interlocked.Increment(ref _nextFetch);
        _fetchesOut[fetch] = System.Diagnostics.Stopwatch.GetTimestamp();
        OnFetching();
        try
        {
            var reply = await ask.WaitAsync(abandon).ConfigureAwait(false);
            if (reply is QueueItems items)
            {
                foreach (var delivery in items.Deliveries)
                    Holding[delivery.Id] = 0;
            }
            return reply;
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested && !ask.IsCompleted)
        {
            return QueueEmpty.Instance;
        }
        finally
        {
            _fetchesOut.TryRemove(fetch, out _);
        }
    }

    /// <summary>A fetch went out (with a lease): a joinable queue's keeper starts renewing.</summary>
    protected virtual void OnFetching()
    {
    }

    private async Task FillAsync(int max, TimeSpan wait, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var left = wait - clock.Elapsed;
            Task<object> fetch;
            if (_ahead.TryPeek(out var ahead))
            {
                // Fetched ahead with another call's timeout: wait for it no longer than this call allows.
                if (!ahead.IsCompleted)
                {
                    var timedOut = Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
                    if (await Task.WhenAny(ahead, timedOut).ConfigureAwait(false) != ahead)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new QueueEmptyException($"queue '{Name}' stayed empty for {wait.TotalMilliseconds:0} ms");
                    }
                }
                fetch = _ahead.Dequeue();
            }
            else
            {
                fetch = Fetch(Math.Max(max, Prefetch), left > TimeSpan.Zero ? left : TimeSpan.Zero);
                try
                {
                    await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !fetch.IsCompleted)
                {
                    // The caller gave up, but the queue may still hand this get an item: keep the fetch, so that its
                    // items go to the next get instead of being lost on the way to a caller who left.
                    _ahead.Enqueue(fetch);
                    throw;
                }
            }
            switch (await fetch.ConfigureAwait(false))
            {
                case QueueItems items:
                    lock (_prefetched)
                    {
                        foreach (var delivery in items.Deliveries)
                            _prefetched.Enqueue(delivery);
                    }
                    // Replies come in the order the fetches went out; any fetched after a sentinel was refused.
                    _endSeen = items.Deliveries.Count > 0 && items.Deliveries[^1].Item.IsNone;
                    if (_endSeen)
                        _sentinelsSeen++;
                    if (PrefetchedCount == 0)
                        continue;
                    return;
                case QueueEmpty when clock.Elapsed < wait || _ahead.Count > 0:
                    continue; // a fetch ahead gave up (or was refused after a sentinel) before this call's own timeout
                case QueueEmpty:
                    throw new QueueEmptyException($"queue '{Name}' stayed empty for {wait.TotalMilliseconds:0} ms");
                case QueueClosed:
                    _endSeen = true;
                    throw new QueueClosedException($"queue '{Name}' is closed and empty");
                case QueueError error:
                    throw new InvalidOperationException(error.Reason);
                case var other:
                    throw new InvalidOperationException($"unexpected reply to get on '{Name}': {other}");
            }
        }
    }

    public async Task<QueueStatus> StatusAsync(CancellationToken cancellationToken = default) =>
        (QueueStatus)await Link.AskAsync(Ref, GetQueueStatus.Instance, ReplyGrace, cancellationToken).ConfigureAwait(false);

    /// <summary>Approximate, as in Python: other processes change it at any moment.</summary>
    public async Task<int> QSizeAsync() => (await StatusAsync().ConfigureAwait(false)).Size;

    public async Task<bool> EmptyAsync() => await QSizeAsync().ConfigureAwait(false) == 0;

    public async Task<bool> FullAsync() => MaxSize > 0 && await QSizeAsync().ConfigureAwait(false) >= MaxSize;

    /// <summary>
    /// Python's <c>close()</c>: this participant puts no more (a put afterwards throws <see cref="QueueClosedException"/>, as
    /// Python's ValueError); other participants still put and get. To end the queue for everyone, <see cref="ShutdownAsync"/>.
    /// </summary>
    public async Task CloseAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        _closedHere = true;
        await Link.AskAsync(Ref, new CloseQueue(Owner, Shutdown: false), timeout ?? ReplyGrace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The whole queue takes no more puts, from anyone; consumers drain what is left, then learn it is closed.</summary>
    public Task ShutdownAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Link.AskAsync(Ref, new CloseQueue(Owner, Shutdown: true), timeout ?? ReplyGrace, cancellationToken);

    private volatile bool _closedHere;

    public override string ToString() =>
        $"{GetType().Name}(name={Name}, maxsize={MaxSize}, owner={Owner}{(_closedHere ? ", closed" : "")}, prefetched={PrefetchedCount}, fetching-ahead={_ahead.Count}{Describe()})";

    /// <summary>What a variant adds to <see cref="ToString"/>.</summary>
    protected virtual string Describe() => "";
}

/// <summary>
/// <c>multiprocessing.JoinableQueue</c>: every item put is unfinished until a consumer calls
/// <see cref="TaskDoneAsync"/> for it; <see cref="JoinAsync"/> waits until none is unfinished. Items held by
/// a consumer whose process dies go back to the queue; with a delivery lease (<see cref="SimQueue.Lease"/>), so do the
/// items of a consumer that stops renewing it (paused, cut off), and its late task_done for them is refused.
/// </summary>
public sealed class SimJoinableQueue : SimQueue, ILeaseHolder
{
    private static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(10);

    // Deliveries handed to the caller and not yet marked done, oldest first: task_done names them.
    private readonly Queue<long> _unfinished = new();
    private readonly LeaseKeeper? _keeper;
    private long _lost;
    // Fetches the last renewal found unknown to the queue (null: none): still out at the next one, they were lost.
    private HashSet<long>? _suspectFetches;

    private SimJoinableQueue(QueueDeclared declared, int maxSize, ClientLink link, IActorRef session)
        : base(declared, maxSize, link, session)
    {
        if (Lease > TimeSpan.Zero)
            _keeper = new LeaseKeeper(this);
    }

    public static new async Task<SimJoinableQueue> DeclareAsync(IActorRef manager, string name, int maxSize, ClientLink link, IActorRef session,
        CancellationToken cancellationToken = default) =>
        await DeclareAsync(manager, name, maxSize, link, session, null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// As <see cref="DeclareAsync(IActorRef, string, int, ClientLink, IActorRef, CancellationToken)"/>, setting the queue's delivery
    /// lease (zero: none): the run's own declaration does this, before any consumer takes an item.
    /// </summary>
    public static async Task<SimJoinableQueue> DeclareAsync(IActorRef manager, string name, int maxSize, ClientLink link, IActorRef session,
        TimeSpan? lease, CancellationToken cancellationToken = default) =>
        new(await DeclareRefAsync(manager, name, maxSize, true, link, lease, cancellationToken).ConfigureAwait(false), maxSize, link, session);

    /// <summary>How long a task_done waits for its answer with a lease: a few leases, at least a second, at most the usual grace.</summary>
    private TimeSpan UnansweredTaskDone => TimeSpan.FromTicks(Math.Clamp(Lease.Ticks * 3, TimeSpan.FromSeconds(1).Ticks, ReplyGrace.Ticks));

    /// <summary>Items this consumer held whose lease ran out before it marked them done: the queue gave them to another.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    protected override async Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(int max, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var taken = await base.GetDeliveriesAsync(max, timeout, cancellationToken).ConfigureAwait(false);
        lock (_unfinished)
        {
            foreach (var delivery in taken)
                _unfinished.Enqueue(delivery.Id);
        }
        return taken;
    }

    protected override void OnFetching() => _keeper?.Track(Lease);

    bool ILeaseHolder.HoldsAnything => !Holding.IsEmpty || IsFetching;

    ClientLink ILeaseHolder.Link => Link;

    void ILeaseHolder.Renew(TimeSpan lease) => _ = RenewAsync(lease);

    private async Task RenewAsync(TimeSpan lease)
    {
        var held = Holding.Keys.ToList();
        // Sent before the renewal, each of these reached the queue before it (one connection keeps the order), and any answer
        // the queue gave them reaches this node before the renewal's own answer; only those out for a lease already are suspects
        // (an answer may take a moment from the wire to this client's books).
        var oldest = System.Diagnostics.Stopwatch.GetTimestamp() - (long)(lease.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var sentBefore = FetchesOut.Where(f => f.Value < oldest).Select(f => f.Key).ToList();
        try
        {
            if (await Link.AskAsync(Ref, new RenewDeliveries(Owner, ClientId, held), lease).ConfigureAwait(false) is not DeliveriesRenewed renewed)
                return;
            if (renewed.Lost.Count > 0)
            {
                Interlocked.Add(ref _lost, DropPrefetched(renewed.Lost));
            }
            // More of them still unanswered than the queue has waiting: some, or their answers, were lost on the way (a
            // partition). Still unanswered at the next renewal, they are given up, and the caller fetches again.
            var stillOut = sentBefore.Where(IsFetchOut).ToHashSet();
            var abandon = false;
            lock (_unfinished)
            {
                if (stillOut.Count <= renewed.WaitingGets)
                    _suspectFetches = null;
                else if (_suspectFetches is { } suspects && suspects.Overlaps(stillOut))
                    (abandon, _suspectFetches) = (true, null);
                else
                    _suspectFetches = stillOut;
            }
            if (abandon)
                AbandonFetches();
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or ParticipantFencedException)
        {
            // A late or lost renewal: the next one may still be in time; if none is, the queue takes the items back.
        }
    }

    protected override string Describe()
    {
        int unfinished;
        lock (_unfinished)
            unfinished = _unfinished.Count;
        return $", unfinished={unfinished}" + (Lease > TimeSpan.Zero ? $", lease={Lease.TotalMilliseconds:0} ms, lost={Lost}" : "");
    }

    /// <summary>
    /// The deliveries that the next <paramref name="count"/> task_done calls complete: the oldest items this client handed
    /// out and has not marked done. More than it holds is an error (Python's "task_done() called too many times").
    /// </summary>
    public IReadOnlyList<long> TakeUnfinished(int count)
    {
        lock (_unfinished)
        {
            if (count < 1 || count > _unfinished.Count)
                throw new InvalidOperationException(
                    $"task_done() called {count} time(s) with {_unfinished.Count} item(s) of '{Name}' unfinished at {Owner}");
            var ids = new long[count];
            for (var i = 0; i < count; i++)
                ids[i] = _unfinished.Dequeue();
            return ids;
        }
    }

    /// <summary>
    /// Marks this consumer's oldest <paramref name="count"/> unfinished item(s) done; more than it holds is an error. Items whose
    /// lease ran out (the queue gave them to another consumer) are not done by this call: it throws
    /// <see cref="DeliveryLostException"/> after marking the others.
    /// </summary>
    public async Task<long> TaskDoneAsync(int count = 1, CancellationToken cancellationToken = default)
    {
        var ack = await TaskDoneRecordingAsync(TakeUnfinished(count), null, null, cancellationToken).ConfigureAwait(false);
        return ack.Lost.Count == 0 ? ack.Unfinished : throw new DeliveryLostException(
            $"task_done() on '{Name}': {ack.Lost.Count} item(s) held by {Owner} are no longer its own: their lease of {Lease.TotalMilliseconds:0} ms ran out (or the call went unanswered) and the queue hands them to another consumer");
    }

    /// <summary>
    /// Marks <paramref name="deliveries"/> (from <see cref="TakeUnfinished"/>) done and, with <paramref name="ledger"/>, records the
    /// item id at the same place in <paramref name="record"/> for each one still held, in one step at the queue. The answer names
    /// the deliveries lost to an expired lease (neither done nor recorded). With a lease, a call left unanswered for a few leases
    /// counts all of them lost (and the unfinished count as -1, unknown): they are done if it arrived, back in the queue if not.
    /// </summary>
    public async Task<QueueTaskDoneAck> TaskDoneRecordingAsync(IReadOnlyList<long> deliveries, IReadOnlyList<long>? record, IActorRef? ledger,
        CancellationToken cancellationToken = default)
    {
        object reply;
        if (Lease <= TimeSpan.Zero)
            reply = await Link.AskAsync(Ref, new QueueTaskDone(Owner, deliveries, record, ledger), ReplyGrace, cancellationToken).ConfigureAwait(false);
        else
        {
            try
            {
                // Renewed while the answer is awaited; an answer that does not come (lost in a partition) leaves them to their
                // lease: done if the call arrived, back in the queue if not. Either way they are not this consumer's any more.
                reply = await Link.AskAsync(Ref, new QueueTaskDone(Owner, deliveries, record, ledger), UnansweredTaskDone, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                reply = new QueueTaskDoneAck(-1, deliveries);
            }
            finally
            {
                foreach (var id in deliveries)
                    Holding.TryRemove(id, out _);
            }
        }
        switch (reply)
        {
            case QueueTaskDoneAck ack:
                if (ack.Lost.Count > 0)
                    Interlocked.Add(ref _lost, ack.Lost.Count);
                return ack;
            case QueueError error:
                throw new InvalidOperationException(error.Reason);
            case var other:
                throw new InvalidOperationException($"unexpected reply to task_done on '{Name}': {other}");
        }
    }

    /// <summary>Waits until every item put has been marked done; throws <see cref="TimeoutException"/> if not within the timeout.</summary>
    public async Task JoinAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        switch (await Link.AskAsync(Ref, new QueueJoin(timeout, Owner), timeout + ReplyGrace, cancellationToken).ConfigureAwait(false))
        {
            case QueueJoined:
                return;
            case QueueJoinTimedOut timedOut:
                throw new TimeoutException($"queue '{Name}': {timedOut.Unfinished} task(s) still unfinished after {timeout.TotalMilliseconds:0} ms");
            case QueueError error:
                throw new InvalidOperationException(error.Reason);
            case var other:
                throw new InvalidOperationException($"unexpected reply to join on '{Name}': {other}");
        }
    }
}
