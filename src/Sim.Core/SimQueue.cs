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

    /// <summary>How many items one get fetches at most; the rest wait here for the next GetAsync calls.</summary>
    public int Prefetch { get; set; } = 1;

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
    /// Puts items in order, as few messages as fit a remote frame: the fast way to stream many small items.
    /// </summary>
    public async Task PutManyAsync(IReadOnlyList<QueueItem> items, TimeSpan? timeout = null)
    {
        var batch = new List<QueueItem>();
        long bytes = 0;
        foreach (var item in items)
        {
            if (batch.Count > 0 && bytes + item.Payload.Length > QueueItem.MaxPayloadBytes)
            {
                await PutBatchAsync(batch, timeout).ConfigureAwait(false);
                batch = new List<QueueItem>();
                bytes = 0;
            }
            batch.Add(item);
            bytes += item.Payload.Length;
        }
        if (batch.Count > 0)
            await PutBatchAsync(batch, timeout).ConfigureAwait(false);
    }

    private async Task PutBatchAsync(IReadOnlyList<QueueItem> items, TimeSpan? timeout)
    {
        var wait = timeout ?? Forever;
        var reply = await Ref.Ask<object>(new QueuePut(Owner, items, wait), wait + ReplyGrace).ConfigureAwait(false);
        switch (reply)
        {
            case QueuePutDone:
                return;
            case QueueFull full:
                throw new QueueFullException(
                    $"queue '{Name}' (maxsize {MaxSize}) stayed full for {wait.TotalMilliseconds:0} ms; {full.Accepted} of {items.Count} item(s) went in");
            case QueueClosed:
                throw new QueueClosedException($"queue '{Name}' is closed");
            default:
                throw new InvalidOperationException($"unexpected reply to put on '{Name}': {reply}");
        }
    }

    public async Task<QueueItem> GetAsync(TimeSpan? timeout = null) =>
        (await GetDeliveriesAsync(1, timeout).ConfigureAwait(false))[0].Item;

    public Task<QueueItem> GetNowaitAsync() => GetAsync(TimeSpan.Zero);

    /// <summary>Up to <paramref name="max"/> items, waiting up to <paramref name="timeout"/> for the first.</summary>
    public async Task<IReadOnlyList<QueueItem>> GetManyAsync(int max, TimeSpan? timeout = null) =>
        (await GetDeliveriesAsync(max, timeout).ConfigureAwait(false)).Select(d => d.Item).ToList();

    protected async Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(int max, TimeSpan? timeout)
    {
        if (_prefetched.Count == 0)
        {
            var wait = timeout ?? Forever;
            var reply = await Ref.Ask<object>(new QueueGet(Owner, Session, Math.Max(max, Prefetch), wait), wait + ReplyGrace)
                .ConfigureAwait(false);
            switch (reply)
            {
                case QueueItems items:
                    foreach (var delivery in items.Deliveries)
                        _prefetched.Enqueue(delivery);
                    break;
                case QueueEmpty:
                    throw new QueueEmptyException($"queue '{Name}' stayed empty for {wait.TotalMilliseconds:0} ms");
                case QueueClosed:
                    throw new QueueClosedException($"queue '{Name}' is closed and empty");
                case QueueError error:
                    throw new InvalidOperationException(error.Reason);
                default:
                    throw new InvalidOperationException($"unexpected reply to get on '{Name}': {reply}");
            }
        }
        var taken = new List<Delivery>(Math.Min(max, _prefetched.Count));
        while (taken.Count < max && _prefetched.TryDequeue(out var next))
            taken.Add(next);
        return taken;
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
        $"{GetType().Name}(name={Name}, maxsize={MaxSize}, owner={Owner}, prefetched={_prefetched.Count})";
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
