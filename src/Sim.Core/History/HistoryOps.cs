using System.Buffers.Binary;
using Akka.Actor;

namespace Sim.Core.History;

/// <summary>What a call is, in the history's terms: which primitive (kind and key), which operation, its value and token.</summary>
public sealed record HistoryOp(string Kind, string Key, string F, IReadOnlyList<long> Values, long Token);

/// <summary>How a call ended: its type, and the value and token of the answer where the answer has them (null: as invoked).</summary>
public sealed record HistoryOutcome(HistoryType Type, IReadOnlyList<long>? Values, long? Token, string? Note = null);

/// <summary>
/// The one place that knows which client messages are operations on primitives and what their answers mean, so that a
/// single hook in <see cref="ClientLink"/> records every role's calls, Sim's own and users' alike. Messages that are
/// not operations on a primitive (declarations, status, the start barrier, reports) are not recorded.
/// </summary>
public static class HistoryOps
{
    public const string Lock = "lock";
    public const string Tickets = "tickets";
    public const string Queue = "queue";
    public const string Value = "value";

    private static readonly IReadOnlyList<long> None = [];

    public static HistoryOp? Describe(IActorRef target, object message) => message switch
    {
        Acquire a => new HistoryOp(Lock, a.Lock, "acquire", None, 0),
        Release r => new HistoryOp(Lock, r.Lock, "release", None, r.Token),
        ReleasePermits p => new HistoryOp(Lock, p.Lock, "release", [p.Count], 0),
        SearchTickets s => new HistoryOp(Tickets, Tickets, "read", None, s.Token),
        WriteTickets w => new HistoryOp(Tickets, Tickets, "write", [w.Count], w.Token),
        QueuePut p => new HistoryOp(Queue, QueueKey(target), "put", ItemIds(p.Items), 0),
        QueueGet => new HistoryOp(Queue, QueueKey(target), "get", None, 0),
        QueueTaskDone t => new HistoryOp(Queue, QueueKey(target), "task_done", [t.Deliveries.Count], 0),
        SharedGet g => new HistoryOp(Value, SharedKey(g.Object, g.Key), "read", None, g.Token),
        SharedSet s => new HistoryOp(Value, SharedKey(s.Object, s.Key), "write", Scalar(s.Value), s.Token),
        SharedAdd a => new HistoryOp(Value, SharedKey(a.Object, a.Key), "add", Scalar(a.Delta), a.Token),
        SharedCompareAndSet c => new HistoryOp(Value, SharedKey(c.Object, c.Key), "cas", [.. Scalar(c.Expected), .. Scalar(c.New)], c.Token),
        _ => null,
    };

    /// <summary>The answer <paramref name="reply"/> to <paramref name="op"/> as an outcome.</summary>
    public static HistoryOutcome Outcome(HistoryOp op, object reply) => reply switch
    {
        Granted g => new HistoryOutcome(HistoryType.Ok, None, g.Token),
        AcquireTimedOut => new HistoryOutcome(HistoryType.Fail, None, null, "timed out"),
        AcquireRefused r => new HistoryOutcome(HistoryType.Fail, None, null, r.Reason),
        Released => new HistoryOutcome(HistoryType.Ok, null, null),
        ReleaseRefused r => new HistoryOutcome(HistoryType.Fail, null, null, r.Reason),
        SemaphoreOverReleased o => new HistoryOutcome(HistoryType.Fail, null, null, o.Reason),
        PermitsReleased p => new HistoryOutcome(HistoryType.Ok, [p.Value], null),
        TicketSnapshot s => new HistoryOutcome(HistoryType.Ok, [s.Count], null),
        TicketWriteAccepted a => new HistoryOutcome(HistoryType.Ok, [a.Count], a.Token),
        TicketWriteRejected r => new HistoryOutcome(HistoryType.Fail, null, null, r.Reason),
        TicketStoreFailed f => new HistoryOutcome(HistoryType.Fail, null, null, f.Reason),
        QueuePutDone => new HistoryOutcome(HistoryType.Ok, null, null),
        QueueFull f when f.Accepted > 0 => new HistoryOutcome(HistoryType.Ok, op.Values.Take(f.Accepted).ToList(), null,
            $"queue full: {f.Accepted} of {op.Values.Count} put"),
        QueueFull => new HistoryOutcome(HistoryType.Fail, null, null, "queue full"),
        QueueItems i => Got(i),
        QueueEmpty => new HistoryOutcome(HistoryType.Fail, None, null, "empty"),
        QueueClosed => new HistoryOutcome(HistoryType.Fail, None, null, "closed"),
        QueueTaskDoneAck a => new HistoryOutcome(HistoryType.Ok, [a.Unfinished], null),
        QueueError e => new HistoryOutcome(HistoryType.Fail, null, null, e.Reason),
        SharedDone d when op.F == "cas" => new HistoryOutcome(d.Swapped ? HistoryType.Ok : HistoryType.Fail, null, null),
        SharedDone d when op.F is "read" or "add" => new HistoryOutcome(HistoryType.Ok, Scalar(d.Value), null),
        SharedDone => new HistoryOutcome(HistoryType.Ok, null, null),
        SharedStale s => new HistoryOutcome(HistoryType.Fail, null, null, $"stale token {s.Token}: the object has seen {s.Highest}"),
        SharedError e => new HistoryOutcome(HistoryType.Fail, null, null, e.Reason),
        _ => new HistoryOutcome(HistoryType.Ok, null, null),
    };

    /// <summary>A call that got no answer: its outcome is unknown (Jepsen's info).</summary>
    public static HistoryOutcome Unknown(Exception error) => new(HistoryType.Info, null, null, error switch
    {
        TimeoutException => "no answer in time",
        ParticipantFencedException => "fenced: the participant is leaving",
        CoordinatorLostException => "coordinator lost",
        OperationCanceledException => "cancelled",
        _ => error.GetType().Name,
    });

    private static HistoryOutcome Got(QueueItems items)
    {
        var ids = new List<long>(items.Deliveries.Count);
        var sentinels = 0;
        foreach (var delivery in items.Deliveries)
        {
            if (delivery.Item.IsNone)
                sentinels++;
            else
                ids.Add(ItemId(delivery.Item));
        }
        return new HistoryOutcome(HistoryType.Ok, ids, null, sentinels > 0 ? "None" : null);
    }

    /// <summary>The ids of the items (the None sentinel is no item and is left out).</summary>
    public static IReadOnlyList<long> ItemIds(IReadOnlyList<QueueItem> items)
    {
        var ids = new List<long>(items.Count);
        foreach (var item in items)
        {
            if (!item.IsNone)
                ids.Add(ItemId(item));
        }
        return ids;
    }

    /// <summary>
    /// An item's identity in the history: the id a producer of Sim wrote in its first 8 bytes (see Roles.ProducedItem), or
    /// for other items a 64-bit FNV-1a hash of kind and payload (equal items then look alike, as in any queue history).
    /// </summary>
    public static long ItemId(QueueItem item)
    {
        var bytes = item.Payload;
        if (item.Kind == QueueItemKind.Bytes && bytes.Length >= Roles.ProducedItem.MinBytes)
            return BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var hash = 14695981039346656037UL ^ (byte)item.Kind;
        foreach (var b in bytes)
            hash = (hash ^ b) * 1099511628211UL;
        return (long)(hash & long.MaxValue);
    }

    /// <summary>The queue a queue actor serves (its actor name is the escaped queue name).</summary>
    public static string QueueKey(IActorRef queue) => Uri.UnescapeDataString(queue.Path.Name);

    public static string SharedKey(string obj, string key) => string.IsNullOrEmpty(key) ? obj : $"{obj}[{key}]";

    private static IReadOnlyList<long> Scalar(SharedScalar value) => value.Kind == SharedScalarKind.Int ? [value.Int] : None;
}
