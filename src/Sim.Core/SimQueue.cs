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

    protected SimQueue(IActorRef queue, string name, int maxSize, string owner, IActorRef session)
    {
        Ref = queue;
        Name = name;
        MaxSize = maxSize;
        Owner = owner;
        Session = session;
    }

    public IActorRef Ref { get; }
    public string Name { get; }
    public int MaxSize { get; }
    public string Owner { get; }
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
    public static async Task<SimQueue> DeclareAsync(IActorRef manager, string name, int maxSize, string owner, IActorRef session) =>
        new(await DeclareRefAsync(manager, name, maxSize, false).ConfigureAwait(false), name, maxSize, owner, session);

    protected static async Task<IActorRef> DeclareRefAsync(IActorRef manager, string name, int maxSize, bool joinable) =>
        await manager.Ask<object>(new DeclareQueue(name, maxSize, joinable), ReplyGrace).ConfigureAwait(false) switch
        {
            QueueDeclared d => d.Ref,
            QueueError e => throw new InvalidOperationException(e.Reason),
            var other => throw new InvalidOperationException($"unexpected reply to declare '{name}': {other}"),
        };

    public Task PutAsync(QueueItem item, TimeSpan? timeout = null) => PutManyAsync([item], timeout);

    public Task PutAsync(string text, TimeSpan? timeout = null) => PutAsync(QueueItem.Text(text), timeout);

    public Task PutNowaitAsync(QueueItem item) => PutAsync(item, TimeSpan.Zero);

    /// <summary>
    /// Puts items in order, <see cref="PutBatch"/> per message with up to <see cref="PutWindow"/> messages
    /// unanswered: the fast way to stream many items (the sequence is read lazily, so producing overlaps
    /// sending). Returns when every item is in the queue; on a timeout the queue keeps the items that went in
    /// before it and refuses the rest, so what went in is always a prefix of the sequence.
    /// </summary>
    public async Task PutManyAsync(IEnumerable<QueueItem> items, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
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
                pending.Enqueue((Ref.Ask<object>(new QueuePut(Owner, batch, wait), wait + ReplyGrace), batch.Count));
                batch = new List<QueueItem>();
                bytes = 0;
            }
            batch.Add(item);
            bytes += item.Payload.Length;
        }
        if (batch.Count > 0 && failure is null)
            pending.Enqueue((Ref.Ask<object>(new QueuePut(Owner, batch, wait), wait + ReplyGrace), batch.Count));
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

    public async Task<QueueItem> GetAsync(TimeSpan? timeout = null) =>
        (await GetDeliveriesAsync(1, timeout).ConfigureAwait(false))[0].Item;

    public Task<QueueItem> GetNowaitAsync() => GetAsync(TimeSpan.Zero);

    /// <summary>Up to <paramref name="max"/> items, waiting up to <paramref name="timeout"/> for the first.</summary>
    public async Task<IReadOnlyList<QueueItem>> GetManyAsync(int max, TimeSpan? timeout = null) =>
        (await GetDeliveriesAsync(max, timeout).ConfigureAwait(false)).Select(d => d.Item).ToList();

    protected async Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(int max, TimeSpan? timeout)
    {
        var wait = timeout ?? Forever;
        if (_prefetched.Count == 0)
            await FillAsync(max, wait).ConfigureAwait(false);
        var taken = new List<Delivery>(Math.Min(max, _prefetched.Count));
        while (taken.Count < max && _prefetched.TryDequeue(out var next))
            taken.Add(next);
        // Get ahead while the caller works, unless the end (a sentinel, or closed) is already here.
        while (Prefetch > 1 && !_endSeen && _ahead.Count < Math.Max(1, FetchWindow) && _prefetched.Count < Prefetch)
            _ahead.Enqueue(Fetch(Prefetch, wait));
        return taken;
    }

    private Task<object> Fetch(int max, TimeSpan wait) =>
        Ref.Ask<object>(new QueueGet(Owner, Session, max, wait, _clientId, _sentinelsSeen), wait + ReplyGrace);

    private async Task FillAsync(int max, TimeSpan wait)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var left = wait - clock.Elapsed;
            Task<object> fetch;
            if (_ahead.TryPeek(out var ahead))
            {
                // Fetched ahead with another call's timeout: wait for it no longer than this call allows.
                if (!ahead.IsCompleted && await Task.WhenAny(ahead, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero)).ConfigureAwait(false) != ahead)
                    throw new QueueEmptyException($"queue '{Name}' stayed empty for {wait.TotalMilliseconds:0} ms");
                fetch = _ahead.Dequeue();
            }
            else
                fetch = Fetch(Math.Max(max, Prefetch), left > TimeSpan.Zero ? left : TimeSpan.Zero);
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

    public async Task<QueueStatus> StatusAsync() =>
        await Ref.Ask<QueueStatus>(GetQueueStatus.Instance, ReplyGrace).ConfigureAwait(false);

    /// <summary>Approximate, as in Python: other processes change it at any moment.</summary>
    public async Task<int> QSizeAsync() => (await StatusAsync().ConfigureAwait(false)).Size;

    public async Task<bool> EmptyAsync() => await QSizeAsync().ConfigureAwait(false) == 0;

    public async Task<bool> FullAsync() => MaxSize > 0 && await QSizeAsync().ConfigureAwait(false) >= MaxSize;

    /// <summary>No more puts; consumers drain what is left, then learn the queue is closed.</summary>
    public Task CloseAsync() => Ref.Ask<QueueStatus>(CloseQueue.Instance, ReplyGrace);

    public override string ToString() =>
        $"{GetType().Name}(name={Name}, maxsize={MaxSize}, owner={Owner}, prefetched={_prefetched.Count}, fetching-ahead={_ahead.Count})";
}

/// <summary>
/// <c>multiprocessing.JoinableQueue</c>: every item put is unfinished until a consumer calls
/// <see cref="TaskDoneAsync"/> for it; <see cref="JoinAsync"/> waits until none is unfinished. Items held by
/// a consumer whose process dies go back to the queue.
/// </summary>
public sealed class SimJoinableQueue : SimQueue
{
    private static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(10);

    private SimJoinableQueue(IActorRef queue, string name, int maxSize, string owner, IActorRef session)
        : base(queue, name, maxSize, owner, session)
    {
    }

    public static new async Task<SimJoinableQueue> DeclareAsync(IActorRef manager, string name, int maxSize, string owner, IActorRef session) =>
        new(await DeclareRefAsync(manager, name, maxSize, true).ConfigureAwait(false), name, maxSize, owner, session);

    /// <summary>Marks this consumer's oldest <paramref name="count"/> unfinished item(s) done; more than it holds is an error.</summary>
    public async Task<long> TaskDoneAsync(int count = 1) =>
        await Ref.Ask<object>(new QueueTaskDone(Owner, count), ReplyGrace).ConfigureAwait(false) switch
        {
            QueueTaskDoneAck ack => ack.Unfinished,
            QueueError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply to task_done on '{Name}': {other}"),
        };

    /// <summary>Waits until every item put has been marked done; throws <see cref="TimeoutException"/> if not within the timeout.</summary>
    public async Task JoinAsync(TimeSpan timeout)
    {
        switch (await Ref.Ask<object>(new QueueJoin(timeout), timeout + ReplyGrace).ConfigureAwait(false))
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
