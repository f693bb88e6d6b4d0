using Akka.Actor;
using Akka.Event;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Ask for one permit of the named lock. <paramref name="MaxHolders"/> is 1 for a lock and N for a
/// semaphore: one mechanism, as CPython's SemLock. A zero timeout is a non-blocking try.
/// </summary>
public sealed record Acquire(
    string Lock, long RequestId, string OwnerName, IActorRef Owner, TimeSpan Timeout, int MaxHolders = 1) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

/// <summary>The permit is yours. <paramref name="Token"/> is the fencing token: strictly increasing per lock name.</summary>
public sealed record Granted(string Lock, long RequestId, long Token) : ISimMessage;

public sealed record AcquireTimedOut(string Lock, long RequestId) : ISimMessage;

/// <summary>The request is malformed or conflicts with the lock's kind (e.g. another MaxHolders).</summary>
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

public sealed record Released(string Lock, long Token) : ISimMessage;

/// <summary>Releasing what you do not hold is an error, never a silent success (Python raises too).</summary>
public sealed record ReleaseRefused(string Lock, long Token, string Reason) : ISimMessage;

/// <summary>
/// A participant's process has ended (reported by whoever saw it: the launcher, an agent, a test).
/// Its locks pass on at once instead of after remote failure detection.
/// </summary>
public sealed record ParticipantExited(string Name, int? ExitCode) : ISimMessage;

public sealed record GetLockState(string Lock) : ISimMessage;

/// <summary>Part of <see cref="LockState"/>, never sent alone.</summary>
public sealed record LockHolderInfo(string OwnerName, long Token);

public sealed record LockState(
    string Lock, int MaxHolders, long LastToken, IReadOnlyList<LockHolderInfo> Holders, IReadOnlyList<string> Waiters) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// Named locks and semaphores for the whole simulation: FIFO waiters, acquire with timeout, fencing
/// tokens, and release of whatever a dead participant held (DeathWatch, or a <see cref="ParticipantExited"/>
/// report, whichever comes first).
/// </summary>
public sealed class LockManager : FencingActor
{
    public const string Name = "lock-manager";

    /// <summary>Longest wait a request may ask for; the scheduler needs a bound and nobody waits a day.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>Longest lock name: names are kept for the life of the coordinator, so they are bounded.</summary>
    public const int MaxNameLength = 256;

    // Local to this actor (a scheduled reminder to itself), so it never needs a wire format.
    private sealed record Deadline(string Lock, string OwnerName, long RequestId) : INoSerializationVerificationNeeded;

    private sealed class Holder(long token, long requestId, string ownerName, IActorRef owner)
    {
        public long Token { get; } = token;
        public long RequestId { get; } = requestId;
        public string OwnerName { get; } = ownerName;
        public IActorRef Owner { get; } = owner;
    }

    private sealed class Waiter(Acquire request, IActorRef replyTo, ICancelable? timer)
    {
        public Acquire Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public ICancelable? Timer { get; } = timer;
    }

    private sealed class NamedLock(LockKind kind)
    {
        public LockKind Kind { get; } = kind;
        public int MaxHolders => Kind.MaxHolders;
        public Dictionary<long, Holder> Holders { get; } = new();
        public LinkedList<Waiter> Waiters { get; } = new();
    }

    // What outlives a lock's holders and waiters: its kind, and its last token (tokens never go back).
    private sealed class LockKind(int maxHolders)
    {
        public int MaxHolders { get; } = maxHolders;
        public long LastToken { get; set; }
    }

    // Locks with holders or waiters; an idle lock is forgotten but for its LockKind.
    private readonly Dictionary<string, NamedLock> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LockKind> _kinds = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public static Props Props() => Akka.Actor.Props.Create(() => new LockManager());

    public LockManager()
    {
        Receive<Acquire>(OnAcquire);
        Receive<Release>(OnRelease);
        Receive<CancelAcquire>(OnCancel);
        Receive<Deadline>(OnDeadline);
        Receive<GetLockState>(m => Sender.Tell(StateOf(m.Lock)));
    }

    protected override void OnParticipantExited(ParticipantExited m) =>
        ReleaseAllOf(h => h.OwnerName == m.Name, w => w.Request.OwnerName == m.Name, $"participant {m.Name} exited");

    protected override void PostStop()
    {
        base.PostStop();
        foreach (var waiter in _locks.Values.SelectMany(l => l.Waiters))
            waiter.Timer?.Cancel();
    }

    private void OnAcquire(Acquire m)
    {
        if (m.MaxHolders < 1)
        {
            Sender.Tell(new AcquireRefused(m.Lock, m.RequestId, $"max holders must be at least 1, got {m.MaxHolders}"));
            return;
        }
        if (m.Timeout < TimeSpan.Zero || m.Timeout > MaxTimeout)
        {
            Sender.Tell(new AcquireRefused(m.Lock, m.RequestId, $"timeout must be between 0 and {MaxTimeout}, got {m.Timeout}"));
            return;
        }
        if (string.IsNullOrEmpty(m.Lock) || m.Lock.Length > MaxNameLength)
        {
            Sender.Tell(new AcquireRefused(m.Lock, m.RequestId, $"a lock name must have 1 to {MaxNameLength} characters"));
            return;
        }
        if (!_kinds.TryGetValue(m.Lock, out var kind))
            _kinds[m.Lock] = kind = new LockKind(m.MaxHolders);
        if (kind.MaxHolders != m.MaxHolders)
        {
            Sender.Tell(new AcquireRefused(m.Lock, m.RequestId,
                $"'{m.Lock}' allows {kind.MaxHolders} holder(s); this request expects {m.MaxHolders}"));
            return;
        }
        if (!_locks.TryGetValue(m.Lock, out var named))
            _locks[m.Lock] = named = new NamedLock(kind);

        if (named.Holders.Count < named.MaxHolders && named.Waiters.Count == 0)
        {
            Grant(m.Lock, named, m, Sender);
            return;
        }
        if (m.Timeout == TimeSpan.Zero)
        {
            Sender.Tell(new AcquireTimedOut(m.Lock, m.RequestId));
            return;
        }
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(
            m.Timeout, Self, new Deadline(m.Lock, m.OwnerName, m.RequestId), Self);
        named.Waiters.AddLast(new Waiter(m, Sender, timer));
        WatchSession(m.Owner, m.OwnerName);
    }

    private void Grant(string lockName, NamedLock named, Acquire request, IActorRef replyTo)
    {
        var token = ++named.Kind.LastToken;
        named.Holders[token] = new Holder(token, request.RequestId, request.OwnerName, request.Owner);
        WatchSession(request.Owner, request.OwnerName);
        replyTo.Tell(new Granted(lockName, request.RequestId, token));
    }

    private void OnRelease(Release m)
    {
        if (!_locks.TryGetValue(m.Lock, out var named) || !named.Holders.TryGetValue(m.Token, out var holder))
        {
            Sender.Tell(new ReleaseRefused(m.Lock, m.Token, $"token {m.Token} does not hold '{m.Lock}'"));
            return;
        }
        if (holder.OwnerName != m.OwnerName)
        {
            Sender.Tell(new ReleaseRefused(m.Lock, m.Token, $"token {m.Token} of '{m.Lock}' is held by {holder.OwnerName}, not {m.OwnerName}"));
            return;
        }
        RemoveHolder(m.Lock, named, holder);
        Sender.Tell(new Released(m.Lock, m.Token));
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
        var holder = named.Holders.Values.FirstOrDefault(h => h.OwnerName == m.OwnerName && h.RequestId == m.RequestId);
        if (holder is not null)
        {
            // The grant crossed the caller's timeout in flight: the caller never saw it, so give it back.
            RemoveHolder(m.Lock, named, holder);
        }
    }

    private void OnDeadline(Deadline m)
    {
        if (!_locks.TryGetValue(m.Lock, out var named))
            return;
        var waiter = FindWaiter(named, m.OwnerName, m.RequestId);
        if (waiter is null)
            return;
        RemoveWaiter(named, waiter);
        waiter.ReplyTo.Tell(new AcquireTimedOut(m.Lock, m.RequestId));
    }

    private void ReleaseAllOf(Func<Holder, bool> heldBy, Func<Waiter, bool> waitingBy, string why)
    {
        foreach (var (lockName, named) in _locks.ToList())
        {
            foreach (var waiter in named.Waiters.Where(waitingBy).ToList())
                RemoveWaiter(named, waiter);
            foreach (var holder in named.Holders.Values.Where(heldBy).ToList())
            {
                _log.Info("Releasing '{0}' token {1} of {2}: {3}", lockName, holder.Token, holder.OwnerName, why);
                RemoveHolder(lockName, named, holder);
            }
        }
    }

    private void RemoveHolder(string lockName, NamedLock named, Holder holder)
    {
        named.Holders.Remove(holder.Token);
        // FIFO: the longest waiter goes next.
        while (named.Holders.Count < named.MaxHolders && named.Waiters.First is { } first)
        {
            named.Waiters.RemoveFirst();
            first.Value.Timer?.Cancel();
            Grant(lockName, named, first.Value.Request, first.Value.ReplyTo);
        }
        ForgetIfIdle(lockName, named);
    }

    private void ForgetIfIdle(string lockName, NamedLock named)
    {
        if (named.Holders.Count == 0 && named.Waiters.Count == 0)
            _locks.Remove(lockName);
    }

    private void RemoveWaiter(NamedLock named, Waiter waiter)
    {
        named.Waiters.Remove(waiter);
        waiter.Timer?.Cancel();
        ForgetIfIdle(waiter.Request.Lock, named);
    }

    private static Waiter? FindWaiter(NamedLock named, string ownerName, long requestId) =>
        named.Waiters.FirstOrDefault(w => w.Request.OwnerName == ownerName && w.Request.RequestId == requestId);

    private LockState StateOf(string lockName) =>
        _locks.TryGetValue(lockName, out var named)
            ? new LockState(lockName, named.MaxHolders, named.Kind.LastToken,
                named.Holders.Values.OrderBy(h => h.Token).Select(h => new LockHolderInfo(h.OwnerName, h.Token)).ToList(),
                named.Waiters.Select(w => w.Request.OwnerName).ToList())
            : _kinds.TryGetValue(lockName, out var kind)
                ? new LockState(lockName, kind.MaxHolders, kind.LastToken, [], [])
                : new LockState(lockName, 0, 0, [], []);

    /// <summary>Number of locks with holders or waiters now (idle ones are forgotten); for tests of the forgetting.</summary>
    internal int LiveLocks => _locks.Count;
}
