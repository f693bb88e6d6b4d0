using Akka.Actor;

namespace Sim.Core;

/// <summary>Python's <c>queue.Empty</c>: no item came within the timeout.</summary>
public sealed class QueueEmptyException(string message) : Exception(message);

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

    protected SimQueue(IActorRef queue, string name, int maxSize, ClientLink link, IActorRef session)
    {
        Ref = queue;
        Name = name;
        MaxSize = maxSize;
        Link = link;
        Session = session;
    }

    public IActorRef Ref { get; }
    public string Name { get; }
    public int MaxSize { get; }
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

    // Names this client to the queue, for the sentinel rule of fetching ahead.
    private readonly long _clientId = Interlocked.Increment(ref _nextClientId) ^ ((long)Environment.ProcessId << 32);
    private readonly Queue<Task<object>> _ahead = new();
    private int _sentinelsSeen;
    private bool _endSeen;

    /// <summary>Creates the queue on the coordinator if needed (same name, same maxsize) and returns a client of it.</summary>
    public static async Task<SimQueue> DeclareAsync(IActorRef manager, string name, int maxSize, ClientLink link, IActorRef session,
        CancellationToken cancellationToken = default) =>
        new(await DeclareRefAsync(manager, name, maxSize, false, link, cancellationToken).ConfigureAwait(false), name, maxSize, link, session);

    protected static async Task<IActorRef> DeclareRefAsync(IActorRef manager, string name, int maxSize, bool joinable, ClientLink link,
        CancellationToken cancellationToken) =>
        await link.AskAsync(manager, new DeclareQueue(name, maxSize, joinable, link.Participant), ReplyGrace, cancellationToken)
            .ConfigureAwait(false) switch
        {
            QueueDeclared d => d.Ref,
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
        if (_prefetched.Count == 0)
            await FillAsync(max, wait, cancellationToken).ConfigureAwait(false);
        var taken = new List<Delivery>(Math.Min(max, _prefetched.Count));
        while (taken.Count < max && _prefetched.TryDequeue(out var next))
            taken.Add(next);
        // Get ahead while the caller works, unless the end (a sentinel, or closed) is already here.
        while (Prefetch > 1 && !_endSeen && _ahead.Count < Math.Max(1, FetchWindow) && _prefetched.Count < Prefetch)
            _ahead.Enqueue(Fetch(Prefetch, wait));
        return taken;
    }

    // Fetches are not tied to one caller's cancellation (a later call takes what they bring), only to the link's end.
    private Task<object> Fetch(int max, TimeSpan wait) =>
        Link.AskAsync(Ref, new QueueGet(Owner, Session, max, wait, _clientId, _sentinelsSeen), wait + ReplyGrace);

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
                    foreach (var delivery in items.Deliveries)
                        _prefetched.Enqueue(delivery);
                    // Replies come in the order the fetches went out; any fetched after a sentinel was refused.
                    _endSeen = items.Deliveries.Count > 0 && items.Deliveries[^1].Item.IsNone;
                    if (_endSeen)
                        _sentinelsSeen++;
                    if (_prefetched.Count == 0)
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
        $"{GetType().Name}(name={Name}, maxsize={MaxSize}, owner={Owner}{(_closedHere ? ", closed" : "")}, prefetched={_prefetched.Count}, fetching-ahead={_ahead.Count})";
}

/// <summary>
/// <c>multiprocessing.JoinableQueue</c>: every item put is unfinished until a consumer calls
/// <see cref="TaskDoneAsync"/> for it; <see cref="JoinAsync"/> waits until none is unfinished. Items held by
/// a consumer whose process dies go back to the queue.
/// </summary>
public sealed class SimJoinableQueue : SimQueue
{
    private static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(10);

    // Deliveries handed to the caller and not yet marked done, oldest first: task_done names them.
    private readonly Queue<long> _unfinished = new();

    private SimJoinableQueue(IActorRef queue, string name, int maxSize, ClientLink link, IActorRef session)
        : base(queue, name, maxSize, link, session)
    {
    }

    public static new async Task<SimJoinableQueue> DeclareAsync(IActorRef manager, string name, int maxSize, ClientLink link, IActorRef session,
        CancellationToken cancellationToken = default) =>
        new(await DeclareRefAsync(manager, name, maxSize, true, link, cancellationToken).ConfigureAwait(false), name, maxSize, link, session);

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

    /// <summary>Marks this consumer's oldest <paramref name="count"/> unfinished item(s) done; more than it holds is an error.</summary>
    public async Task<long> TaskDoneAsync(int count = 1, CancellationToken cancellationToken = default) =>
        await Link.AskAsync(Ref, new QueueTaskDone(Owner, TakeUnfinished(count)), ReplyGrace, cancellationToken).ConfigureAwait(false) switch
        {
            QueueTaskDoneAck ack => ack.Unfinished,
            QueueError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply to task_done on '{Name}': {other}"),
        };

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
