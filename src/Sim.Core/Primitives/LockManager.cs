using Akka.Actor;
using Akka.Event;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// What a named lock is, as CPython's one SemLock is Lock, RLock, Semaphore or BoundedSemaphore: the same permits,
/// owners, waiters and deadlines, with other rules for who may release and how far.
/// </summary>
public enum SemKind : byte
{
    /// <summary>One permit; only its holder releases it (stricter than Python's Lock, which anyone may release).</summary>
    Lock = 0,

    /// <summary>One permit, reentrant for the participant that holds it (a count); only the holder releases.</summary>
    RLock = 1,

    /// <summary>Python's Semaphore: a value of 0 or more; anyone's release raises it, without limit.</summary>
    Semaphore = 2,

    /// <summary>Python's BoundedSemaphore: a release above the initial value is refused (Python's ValueError).</summary>
    BoundedSemaphore = 3,
}

/// <summary>
/// Ask for one permit of the named lock of <paramref name="Kind"/>; <paramref name="Value"/> is a semaphore's initial
/// value (1 for a lock). A zero timeout is a non-blocking try. An RLock asked again by its holder is granted at once,
/// with the same token and one more count. A <paramref name="Lease"/> above zero asks for a leased grant (see
/// <see cref="RenewLease"/>); zero takes the lock's own lease, if it has one.
/// </summary>
public sealed record Acquire(
    string Lock, long RequestId, string OwnerName, IActorRef Owner, TimeSpan Timeout, SemKind Kind = SemKind.Lock, int Value = 1,
    TimeSpan Lease = default)
    : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>
/// The permit is yours. <paramref name="Token"/> is the fencing token: strictly increasing per lock name. With a
/// <paramref name="Lease"/> above zero, the holding ends unless renewed (<see cref="RenewLease"/>) within the lease.
/// </summary>
public sealed record Granted(string Lock, long RequestId, long Token, TimeSpan Lease = default) : ISimMessage;

public sealed record AcquireTimedOut(string Lock, long RequestId) : ISimMessage;

/// <summary>The request is malformed or conflicts with the primitive's kind (another kind, value or parties), or its rules.</summary>
public sealed record AcquireRefused(string Lock, long RequestId, string Reason) : ISimMessage;

/// <summary>Withdraw a request whose caller gave up: drops it if waiting, releases it if already granted.</summary>
public sealed record CancelAcquire(string Lock, long RequestId, string OwnerName) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>Give back the permit of <paramref name="Token"/>; only its holder <paramref name="OwnerName"/> may.</summary>
public sealed record Release(string Lock, long Token, string OwnerName) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary><paramref name="Count"/>: what is left of the holding (an RLock's count; 0 once the permit is back).</summary>
public sealed record Released(string Lock, long Token, int Count = 0) : ISimMessage;

/// <summary>Releasing what you do not hold is an error, never a silent success (Python raises too).</summary>
public sealed record ReleaseRefused(string Lock, long Token, string Reason) : ISimMessage;

/// <summary>
/// Python's <c>Semaphore.release(n)</c>: raises the value by <paramref name="Count"/>, by anyone. A permit the caller
/// holds is given back first (its token ends), so <c>acquire(); release()</c> by one participant leaves nothing held.
/// </summary>
public sealed record ReleasePermits(string Lock, string OwnerName, SemKind Kind, int Value, int Count = 1) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>The semaphore's value now, and the tokens of the caller's that the release ended.</summary>
public sealed record PermitsReleased(string Lock, int Value, IReadOnlyList<long> Ended) : ISimMessage;

/// <summary>A BoundedSemaphore released above its initial value: Python's <c>ValueError: Semaphore released too many times</c>.</summary>
public sealed record SemaphoreOverReleased(string Lock, int Initial, string Reason) : ISimMessage;

/// <summary>
/// A participant's process has ended (reported by whoever saw it: the launcher, an agent, a test).
/// Its locks pass on at once instead of after remote failure detection.
/// </summary>
public sealed record ParticipantExited(string Name, int? ExitCode) : ISimMessage;

public sealed record GetLockState(string Lock) : ISimMessage;

/// <summary>Part of <see cref="LockState"/>, never sent alone. <paramref name="Count"/> is an RLock's recursion count (1 otherwise).</summary>
public sealed record LockHolderInfo(string OwnerName, long Token, int Count = 1);

/// <summary>
/// A named lock's state: its kind, initial and current value (free permits), last token, holders, waiters. A name never
/// used has kind Lock and value 0 with no token.
/// </summary>
public sealed record LockState(
    string Lock, SemKind Kind, int Initial, int Value, long LastToken, IReadOnlyList<LockHolderInfo> Holders, IReadOnlyList<string> Waiters)
    : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// The one mechanism of every synchronization primitive of the simulation (as CPython's SemLock): named locks, RLocks
/// and semaphores with FIFO waiters, deadlines and fencing tokens; conditions, events and barriers on the same waiters
/// and deadlines; release of whatever a dead participant held and its removal from every queue of waiters
/// (DeathWatch, or a <see cref="ParticipantExited"/> report, whichever comes first); and the wait-for graph, in which
/// a closed cycle is reported as a deadlock at once.
/// </summary>
public sealed partial class LockManager : FencingActor
{
    public const string Name = "lock-manager";

    /// <summary>Longest wait a request may ask for; the scheduler needs a bound and nobody waits a day.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>Longest name of a primitive: names are kept for the life of the coordinator, so they are bounded.</summary>
    public const int MaxNameLength = 256;

    // Local to this actor (a scheduled reminder to itself), so it never needs a wire format.
    private sealed record Deadline(string Lock, string OwnerName, long RequestId) : INoSerializationVerificationNeeded;

    private sealed class Holder(long token, long requestId, string ownerName, IActorRef owner, int count, TimeSpan lease)
    {
        public long Token { get; } = token;
        public TimeSpan Lease { get; } = lease;

        // Stopwatch timestamp after which the holding ends unless renewed (a leased grant only).
        public long LeaseExpiresAt { get; set; }
        public ICancelable? LeaseTimer { get; set; }
        public string OwnerName { get; } = ownerName;
        public IActorRef Owner { get; } = owner;

        // The requests whose grant this holding is (an RLock's reentries add theirs): a cancel names one of them.
        public List<long> RequestIds { get; } = Enumerable.Repeat(requestId, count).ToList();
        public int Count => RequestIds.Count;
    }

    /// <summary>
    /// One request waiting for a permit. A condition's waiter that was notified waits here too, to take its lock back
    /// with its RLock count (<paramref name="count"/>) and be answered by <paramref name="reply"/> instead of <see cref="Granted"/>.
    /// </summary>
    private sealed class Waiter(Acquire request, IActorRef replyTo, ICancelable? timer, int count = 1, Func<long, ISimMessage>? reply = null)
    {
        public Acquire Request { get; } = request;
        // A resent request moves the answer to its newest asker.
        public IActorRef ReplyTo { get; set; } = replyTo;
        public ICancelable? Timer { get; } = timer;
        public int Count { get; } = count;
        public Func<long, ISimMessage>? Reply { get; } = reply;
    }

    private sealed class NamedLock(LockKind kind)
    {
        public LockKind Kind { get; } = kind;
        public Dictionary<long, Holder> Holders { get; } = new();
        public LinkedList<Waiter> Waiters { get; } = new();
    }

    // What outlives a lock's holders and waiters: its kind, its value, and its last token (tokens never go back).
    private sealed class LockKind(SemKind kind, int initial)
    {
        public SemKind Kind { get; } = kind;
        public int Initial { get; } = initial;
        public int Value { get; set; } = initial;
        public long LastToken { get; set; }
        public bool IsSemaphore => Kind is SemKind.Semaphore or SemKind.BoundedSemaphore;
    }

    // Locks with holders or waiters; an idle lock is forgotten but for its LockKind.
    private readonly Dictionary<string, NamedLock> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LockKind> _kinds = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // The run's history: grants and ends of holdings in this actor's order (the order the mutual exclusion checker reads).
    private readonly History.HistoryLog _history = History.HistoryLog.Of(Context.System);

    public static Props Props() => Akka.Actor.Props.Create(() => new LockManager());

    public LockManager()
    {
        Receive<Acquire>(OnAcquire);
        Receive<Release>(OnRelease);
        Receive<ReleasePermits>(OnReleasePermits);
        Receive<CancelAcquire>(OnCancel);
        Receive<Deadline>(OnDeadline);
        Receive<GetLockState>(m => Sender.Tell(StateOf(m.Lock)));
        ReceiveConditions();
        ReceiveEvents();
        ReceiveBarriers();
        ReceiveDeadlocks();
        ReceiveLeases();
    }

    protected override void OnParticipantExited(ParticipantExited m)
    {
        var why = $"participant {m.Name} exited";
        foreach (var (lockName, named) in _locks.ToList())
        {
            foreach (var waiter in named.Waiters.Where(w => w.Request.OwnerName == m.Name).ToList())
                RemoveWaiter(named, waiter);
            foreach (var holder in named.Holders.Values.Where(h => h.OwnerName == m.Name).ToList())
            {
                _log.Info("Releasing '{0}' token {1} of {2}: {3}", lockName, holder.Token, holder.OwnerName, why);
                RemoveHolder(lockName, named, holder);
            }
        }
        ForgetFinished(m.Name);
        ConditionsForget(m.Name);
        EventsForget(m.Name);
        BarriersForget(m.Name, why);
    }

    protected override void PostStop()
    {
        base.PostStop();
        foreach (var waiter in _locks.Values.SelectMany(l => l.Waiters))
            waiter.Timer?.Cancel();
        foreach (var holder in _locks.Values.SelectMany(l => l.Holders.Values))
            holder.LeaseTimer?.Cancel();
        CancelPrimitiveTimers();
    }

    /// <summary>Null if <paramref name="name"/> may name a primitive, else why not.</summary>
    private static string? BadName(string name) =>
        string.IsNullOrEmpty(name) || name.Length > MaxNameLength ? $"a name must have 1 to {MaxNameLength} characters" : null;

    private static string? BadTimeout(TimeSpan timeout) =>
        timeout < TimeSpan.Zero || timeout > MaxTimeout ? $"timeout must be between 0 and {MaxTimeout}, got {timeout}" : null;

    /// <summary>The lock's kind, declared by its first use; null (and why, in <paramref name="refusal"/>) if this use conflicts.</summary>
    private LockKind? KindOf(string lockName, SemKind kind, int value, out string? refusal)
    {
        refusal = BadName(lockName) ?? (kind switch
        {
            SemKind.Lock or SemKind.RLock when value != 1 => $"a {kind} has one permit, got {value}",
            SemKind.Semaphore or SemKind.BoundedSemaphore when value < 0 => $"a {kind}'s initial value must be 0 or more, got {value}",
            _ when !Enum.IsDefined(kind) => $"{(int)kind} is not a kind of lock",
            _ => null,
        });
        if (refusal is not null)
            return null;
        if (!_kinds.TryGetValue(lockName, out var known))
            _kinds[lockName] = known = new LockKind(kind, value);
        if (known.Kind != kind || known.Initial != value)
        {
            refusal = $"'{lockName}' is a {Describe(known.Kind, known.Initial)}; this request expects a {Describe(kind, value)}";
            return null;
        }
        return known;
    }

    private static string Describe(SemKind kind, int initial) => kind is SemKind.Lock or SemKind.RLock ? $"{kind}" : $"{kind}({initial})";

    private void OnAcquire(Acquire m)
    {
        if (AnsweredAsResend(m))
            return;
        var kind = KindOf(m.Lock, m.Kind, m.Value, out var refusal);
        refusal ??= BadTimeout(m.Timeout) ?? BadLease(m.Lease);
        if (kind is null || refusal is not null)
        {
            Sender.Tell(new AcquireRefused(m.Lock, m.RequestId, refusal!));
            return;
        }
        if (!_locks.TryGetValue(m.Lock, out var named))
            _locks[m.Lock] = named = new NamedLock(kind);

        if (kind.Kind == SemKind.RLock && named.Holders.Values.FirstOrDefault(h => h.OwnerName == m.OwnerName) is { } mine)
        {
            // Reentry: the holder takes it again at once, as Python's RLock; one more release is owed.
            mine.RequestIds.Add(m.RequestId);
            Sender.Tell(new Granted(m.Lock, m.RequestId, mine.Token, mine.Lease));
            return;
        }
        if (kind.Value > 0 && named.Waiters.Count == 0)
        {
            Grant(m.Lock, named, new Waiter(m, Sender, null));
            return;
        }
        if (m.Timeout == TimeSpan.Zero)
        {
            Finished(m.OwnerName, [m.RequestId], id => new AcquireTimedOut(m.Lock, id));
            Sender.Tell(new AcquireTimedOut(m.Lock, m.RequestId));
            ForgetIfIdle(m.Lock, named);
            return;
        }
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(
            m.Timeout, Self, new Deadline(m.Lock, m.OwnerName, m.RequestId), Self);
        Enqueue(m.Lock, named, new Waiter(m, Sender, timer));
    }

    /// <summary>Puts <paramref name="waiter"/> in line (or grants it if the lock is free and nobody is ahead), then looks for a deadlock.</summary>
    private void Enqueue(string lockName, NamedLock named, Waiter waiter)
    {
        if (named.Kind.Value > 0 && named.Waiters.Count == 0)
        {
            Grant(lockName, named, waiter);
            return;
        }
        named.Waiters.AddLast(waiter);
        WatchSession(waiter.Request.Owner, waiter.Request.OwnerName);
        CheckDeadlockFrom(waiter.Request.OwnerName);
    }

    private void Grant(string lockName, NamedLock named, Waiter waiter)
    {
        var request = waiter.Request;
        var token = ++named.Kind.LastToken;
        named.Kind.Value--;
        var holder = new Holder(token, request.RequestId, request.OwnerName, request.Owner, waiter.Count, LeaseFor(request));
        named.Holders[token] = holder;
        _history.Coordinator(request.OwnerName, History.HistoryOps.Lock, lockName, "acquire", History.HistoryType.Ok, [], token);
        WatchSession(request.Owner, request.OwnerName);
        StartLease(lockName, holder);
        waiter.ReplyTo.Tell(waiter.Reply?.Invoke(token) ?? new Granted(lockName, request.RequestId, token, holder.Lease));
    }

    private void OnRelease(Release m)
    {
        if (!_locks.TryGetValue(m.Lock, out var named) || !named.Holders.TryGetValue(m.Token, out var holder))
        {
            Sender.Tell(new ReleaseRefused(m.Lock, m.Token, WhyNotHeld(m.Lock, m.Token)));
            return;
        }
        if (holder.OwnerName != m.OwnerName)
        {
            Sender.Tell(new ReleaseRefused(m.Lock, m.Token, $"token {m.Token} of '{m.Lock}' is held by {holder.OwnerName}, not {m.OwnerName}"));
            return;
        }
        if (named.Kind.Kind == SemKind.BoundedSemaphore && named.Kind.Value >= named.Kind.Initial)
        {
            // Others' releases already brought it to its bound: this permit's holding ends, the value stays (Python's ValueError).
            named.Holders.Remove(holder.Token);
            Finished(holder.OwnerName, holder.RequestIds);
            ForgetIfIdle(m.Lock, named);
            Sender.Tell(new SemaphoreOverReleased(m.Lock, named.Kind.Initial, TooMany(m.Lock, named.Kind.Initial)));
            return;
        }
        if (holder.Count > 1)
        {
            Finished(holder.OwnerName, [holder.RequestIds[^1]]);
            holder.RequestIds.RemoveAt(holder.RequestIds.Count - 1);
            Sender.Tell(new Released(m.Lock, m.Token, holder.Count));
            return;
        }
        RemoveHolder(m.Lock, named, holder);
        Sender.Tell(new Released(m.Lock, m.Token));
    }

    private static string TooMany(string lockName, int initial) =>
        $"BoundedSemaphore '{lockName}' released too many times (its initial value is {initial})";

    private void OnReleasePermits(ReleasePermits m)
    {
        var kind = KindOf(m.Lock, m.Kind, m.Value, out var refusal);
        if (kind is not null && !kind.IsSemaphore)
            refusal = $"'{m.Lock}' is a {kind.Kind}: only its holder releases it, by its token";
        if (m.Count < 1)
            refusal ??= $"a release of {m.Count} permits: it must be at least 1";
        if (kind is null || refusal is not null)
        {
            Sender.Tell(new ReleaseRefused(m.Lock, 0, refusal!));
            return;
        }
        if (kind.Kind == SemKind.BoundedSemaphore && kind.Value + m.Count > kind.Initial)
        {
            Sender.Tell(new SemaphoreOverReleased(m.Lock, kind.Initial, TooMany(m.Lock, kind.Initial)));
            return;
        }
        if (!_locks.TryGetValue(m.Lock, out var named))
            _locks[m.Lock] = named = new NamedLock(kind);
        // The caller's own permits end first, oldest first: acquire then release by one participant holds nothing after.
        var ended = named.Holders.Values.Where(h => h.OwnerName == m.OwnerName).OrderBy(h => h.Token).Take(m.Count).ToList();
        foreach (var holder in ended)
        {
            named.Holders.Remove(holder.Token);
            Finished(holder.OwnerName, holder.RequestIds);
            _history.Coordinator(holder.OwnerName, History.HistoryOps.Lock, m.Lock, "release", History.HistoryType.Ok, [], holder.Token);
        }
        kind.Value += m.Count;
        ServeWaiters(m.Lock, named);
        Sender.Tell(new PermitsReleased(m.Lock, kind.Value, ended.Select(h => h.Token).ToList()));
    }

    private void OnCancel(CancelAcquire m)
    {
        if (!_locks.TryGetValue(m.Lock, out var named))
            return;
        var waiter = FindWaiter(named, m.OwnerName, m.RequestId);
        if (waiter is not null)
        {
            RemoveWaiter(named, waiter);
            return;
        }
        var holder = named.Holders.Values.FirstOrDefault(h => h.OwnerName == m.OwnerName && h.RequestIds.Contains(m.RequestId));
        if (holder is null)
            return;
        // The grant crossed the caller's timeout in flight: the caller never saw it, so give it back (all of it, when it
        // was a condition's waiter taking its RLock back with its count).
        if (holder.RequestIds.All(id => id == m.RequestId))
            RemoveHolder(m.Lock, named, holder);
        else
            holder.RequestIds.Remove(m.RequestId);
    }

    private void OnDeadline(Deadline m)
    {
        if (!_locks.TryGetValue(m.Lock, out var named))
            return;
        var waiter = FindWaiter(named, m.OwnerName, m.RequestId);
        if (waiter is null)
            return;
        RemoveWaiter(named, waiter);
        Finished(m.OwnerName, [m.RequestId], id => new AcquireTimedOut(m.Lock, id));
        waiter.ReplyTo.Tell(new AcquireTimedOut(m.Lock, m.RequestId));
    }

    /// <summary>Ends a holding whatever its count (its holder released it for good, left the run, or waits on a condition).</summary>
    private void RemoveHolder(string lockName, NamedLock named, Holder holder)
    {
        named.Holders.Remove(holder.Token);
        Finished(holder.OwnerName, holder.RequestIds);
        holder.LeaseTimer?.Cancel();
        _history.Coordinator(holder.OwnerName, History.HistoryOps.Lock, lockName, "release", History.HistoryType.Ok, [], holder.Token);
        var kind = named.Kind;
        // A BoundedSemaphore never goes above its bound, even when others' releases raised it while this was held.
        kind.Value = kind.Kind == SemKind.BoundedSemaphore ? Math.Min(kind.Value + 1, kind.Initial) : kind.Value + 1;
        ServeWaiters(lockName, named);
    }

    private void ServeWaiters(string lockName, NamedLock named)
    {
        // FIFO: the longest waiter goes next.
        var granted = new List<string>();
        while (named.Kind.Value > 0 && named.Waiters.First is { } first)
        {
            named.Waiters.RemoveFirst();
            first.Value.Timer?.Cancel();
            Grant(lockName, named, first.Value);
            granted.Add(first.Value.Request.OwnerName);
        }
        ForgetIfIdle(lockName, named);
        // A new holder that is itself waiting elsewhere turns the waiters behind it towards that wait: a cycle may close.
        if (named.Waiters.Count > 0)
            foreach (var owner in granted)
                CheckDeadlockFrom(owner);
    }

    private void ForgetIfIdle(string lockName, NamedLock named)
    {
        if (named.Holders.Count == 0 && named.Waiters.Count == 0)
            _locks.Remove(lockName);
    }

    private void RemoveWaiter(NamedLock named, Waiter waiter)
    {
        named.Waiters.Remove(waiter);
        Finished(waiter.Request.OwnerName, [waiter.Request.RequestId]);
        waiter.Timer?.Cancel();
        ForgetIfIdle(waiter.Request.Lock, named);
    }

    private static Waiter? FindWaiter(NamedLock named, string ownerName, long requestId) =>
        named.Waiters.FirstOrDefault(w => w.Request.OwnerName == ownerName && w.Request.RequestId == requestId);

    private LockState StateOf(string lockName) =>
        _locks.TryGetValue(lockName, out var named)
            ? new LockState(lockName, named.Kind.Kind, named.Kind.Initial, named.Kind.Value, named.Kind.LastToken,
                named.Holders.Values.OrderBy(h => h.Token).Select(h => new LockHolderInfo(h.OwnerName, h.Token, h.Count)).ToList(),
                named.Waiters.Select(w => w.Request.OwnerName).ToList())
            : _kinds.TryGetValue(lockName, out var kind)
                ? new LockState(lockName, kind.Kind, kind.Initial, kind.Value, kind.LastToken, [], [])
                : new LockState(lockName, SemKind.Lock, 0, 0, 0, [], []);

    /// <summary>Number of locks with holders or waiters now (idle ones are forgotten); for tests of the forgetting.</summary>
    internal int LiveLocks => _locks.Count;
}
