using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Python's <c>Condition.wait(timeout)</c> on the condition named <paramref name="Condition"/> of the lock (a Lock or an
/// RLock) <paramref name="Lock"/>: the caller must hold the lock; it is released (an RLock whatever its count), and the
/// caller waits for a notify or the timeout, then takes the lock back (with its count) before it is answered.
/// </summary>
public sealed record ConditionWait(string Condition, string Lock, long RequestId, string OwnerName, IActorRef Owner, TimeSpan Timeout)
    : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>The waiter holds its lock again, with the new fencing token <paramref name="Token"/>; <paramref name="Notified"/> is false after a timeout.</summary>
public sealed record ConditionWoken(string Condition, long RequestId, long Token, bool Notified) : ISimMessage;

/// <summary>Python's <c>notify(n)</c> (<c>notify_all()</c>: <see cref="int.MaxValue"/>); the caller must hold the lock.</summary>
public sealed record ConditionNotify(string Condition, string Lock, string OwnerName, int Count) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>How many waiters the notify woke (they now wait to take the lock back).</summary>
public sealed record ConditionNotified(string Condition, int Woken) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

public sealed partial class LockManager
{
    private sealed record ConditionDeadline(string Condition, string OwnerName, long RequestId) : INoSerializationVerificationNeeded;

    private sealed class ConditionWaiter(ConditionWait request, IActorRef replyTo, int count, ICancelable? timer)
    {
        public ConditionWait Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public int Count { get; } = count;
        public ICancelable? Timer { get; } = timer;
    }

    private sealed class NamedCondition(string lockName)
    {
        public string Lock { get; } = lockName;
        public LinkedList<ConditionWaiter> Waiters { get; } = new();
    }

    // A condition's lock is fixed by its first use (kept, as a lock's kind is); its waiters only while it has some.
    private readonly Dictionary<string, NamedCondition> _conditions = new(StringComparer.Ordinal);

    private void ReceiveConditions()
    {
        Receive<ConditionWait>(OnConditionWait);
        Receive<ConditionNotify>(OnConditionNotify);
        Receive<ConditionDeadline>(m =>
        {
            if (_conditions.TryGetValue(m.Condition, out var condition)
                && condition.Waiters.FirstOrDefault(w => w.Request.OwnerName == m.OwnerName && w.Request.RequestId == m.RequestId) is { } waiter)
            {
                condition.Waiters.Remove(waiter);
                Reacquire(condition, waiter, notified: false);
            }
        });
    }

    /// <summary>The condition, bound to <paramref name="lockName"/> on first use; null (and why) if it conflicts or the caller does not hold the lock.</summary>
    private NamedCondition? ConditionOf(string conditionName, string lockName, string owner, out Holder? holder, out string? refusal)
    {
        holder = null;
        refusal = BadName(conditionName) ?? BadName(lockName);
        if (refusal is not null)
            return null;
        if (!_conditions.TryGetValue(conditionName, out var condition))
            _conditions[conditionName] = condition = new NamedCondition(lockName);
        if (condition.Lock != lockName)
        {
            refusal = $"condition '{conditionName}' belongs to lock '{condition.Lock}', not '{lockName}'";
            return null;
        }
        if (_kinds.TryGetValue(lockName, out var kind) && kind.IsSemaphore)
        {
            refusal = $"condition '{conditionName}': '{lockName}' is a {kind.Kind}, not a Lock or RLock";
            return null;
        }
        holder = _locks.TryGetValue(lockName, out var named) ? named.Holders.Values.FirstOrDefault(h => h.OwnerName == owner) : null;
        if (holder is null)
            refusal = $"condition '{conditionName}': {owner} does not hold its lock '{lockName}' (Python: cannot wait on or notify an un-acquired lock)";
        return holder is null ? null : condition;
    }

    private void OnConditionWait(ConditionWait m)
    {
        var condition = ConditionOf(m.Condition, m.Lock, m.OwnerName, out var holder, out var refusal);
        refusal ??= BadTimeout(m.Timeout);
        if (condition is null || holder is null || refusal is not null)
        {
            Sender.Tell(new AcquireRefused(m.Condition, m.RequestId, refusal!));
            return;
        }
        // The lock goes, whatever an RLock's count; the count comes back with it.
        var count = holder.Count;
        RemoveHolder(m.Lock, _locks[m.Lock], holder);
        if (m.Timeout == TimeSpan.Zero)
        {
            Reacquire(condition, new ConditionWaiter(m, Sender, count, null), notified: false);
            return;
        }
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new ConditionDeadline(m.Condition, m.OwnerName, m.RequestId), Self);
        condition.Waiters.AddLast(new ConditionWaiter(m, Sender, count, timer));
        WatchSession(m.Owner, m.OwnerName);
    }

    private void OnConditionNotify(ConditionNotify m)
    {
        var condition = ConditionOf(m.Condition, m.Lock, m.OwnerName, out _, out var refusal);
        if (m.Count < 0)
            refusal ??= $"notify({m.Count}): the count must be 0 or more";
        if (condition is null || refusal is not null)
        {
            Sender.Tell(new AcquireRefused(m.Condition, 0, refusal!));
            return;
        }
        var woken = 0;
        // The longest waiter first, as Python's deque of waiters.
        while (woken < m.Count && condition.Waiters.First is { } first)
        {
            condition.Waiters.RemoveFirst();
            first.Value.Timer?.Cancel();
            Reacquire(condition, first.Value, notified: true);
            woken++;
        }
        Sender.Tell(new ConditionNotified(m.Condition, woken));
    }

    /// <summary>A woken waiter (notified or timed out) waits for its lock like any acquire, without a deadline, as in Python.</summary>
    private void Reacquire(NamedCondition condition, ConditionWaiter waiter, bool notified)
    {
        waiter.Timer?.Cancel();
        var m = waiter.Request;
        var kind = _kinds[condition.Lock];
        if (!_locks.TryGetValue(condition.Lock, out var named))
            _locks[condition.Lock] = named = new NamedLock(kind);
        var acquire = new Acquire(condition.Lock, m.RequestId, m.OwnerName, m.Owner, MaxTimeout, kind.Kind, kind.Initial);
        Enqueue(condition.Lock, named, new Waiter(acquire, waiter.ReplyTo, null, waiter.Count,
            token => new ConditionWoken(m.Condition, m.RequestId, token, notified)));
    }

    private void ConditionsForget(string participant)
    {
        foreach (var condition in _conditions.Values)
            foreach (var waiter in condition.Waiters.Where(w => w.Request.OwnerName == participant).ToList())
            {
                condition.Waiters.Remove(waiter);
                waiter.Timer?.Cancel();
            }
    }
}
