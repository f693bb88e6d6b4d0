using System.Collections.Concurrent;
using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// Client of one named Lock, RLock, Semaphore or BoundedSemaphore held by the <see cref="LockManager"/>. As CPython builds
/// them all on one SemLock, the client types only fix the kind and the initial value; the rules live in the manager.
/// </summary>
public abstract class SemLock : ILeaseHolder
{
    /// <summary>Extra time the reply may take over the wire beyond the requested wait.</summary>
    internal static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An acquire unanswered this long is sent again, the same request (the manager knows a copy by its id): a link
    /// that broke and came back (a partition) has dropped what it held, and nothing else would send it again.
    /// </summary>
    internal static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(1);
    private static long _nextRequestId;

    private readonly ClientLink _link;
    // Held tokens of this participant through this client, with their counts (an RLock's reentries); and the live handles.
    private readonly ConcurrentDictionary<long, int> _held = new();
    private readonly ConcurrentDictionary<LockHandle, byte> _handles = new();
    private readonly Lazy<LeaseKeeper> _leaseKeeper;

    protected SemLock(IActorRef manager, string name, SemKind kind, int value, ClientLink link, IActorRef owner)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("a lock needs a name", nameof(name));
        if (value < 0)
            throw new ArgumentOutOfRangeException(nameof(value), value, $"a {kind}'s initial value must be 0 or more (Python's ValueError)");
        Manager = manager;
        Name = name;
        Kind = kind;
        InitialValue = value;
        _link = link;
        Owner = owner;
        _leaseKeeper = new Lazy<LeaseKeeper>(() => new LeaseKeeper(this));
    }

    /// <summary>
    /// The lease to ask for with every acquire (zero: the lock's own, if its scenario gave it one). A leased holding
    /// ends unless this participant's node renews it in time, which it does by itself while it runs.
    /// </summary>
    public TimeSpan Lease { get; init; }

    public string Name { get; }
    public SemKind Kind { get; }

    /// <summary>A semaphore's initial value (1 for a lock).</summary>
    public int InitialValue { get; }

    public string OwnerName => _link.Participant;
    internal IActorRef Manager { get; }
    internal IActorRef Owner { get; }
    internal ClientLink Link => _link;

    internal static long NextRequestId() => Interlocked.Increment(ref _nextRequestId);

    /// <summary>Waits up to <paramref name="timeout"/> for a permit; throws <see cref="TimeoutException"/> if none came.</summary>
    public async Task<LockHandle> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        await TryAcquireAsync(timeout, cancellationToken).ConfigureAwait(false)
        ?? throw new TimeoutException($"{Kind} '{Name}' not acquired within {timeout.TotalMilliseconds:0} ms");

    /// <summary>Waits up to <paramref name="timeout"/> for a permit; null if none came (Python's <c>acquire(timeout=...)</c> returning False).</summary>
    public async Task<LockHandle?> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var requestId = NextRequestId();
        var reply = await AskResendingAsync(new Acquire(Name, requestId, OwnerName, Owner, timeout, Kind, InitialValue, Lease), requestId,
            timeout + ReplyGrace, cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case Granted g:
                _held.AddOrUpdate(g.Token, 1, (_, count) => count + 1);
                var handle = new LockHandle(this, g.Token);
                _handles[handle] = 0;
                if (g.Lease > TimeSpan.Zero)
                    _leaseKeeper.Value.Track(g.Lease);
                return handle;
            case AcquireTimedOut:
                return null;
            case AcquireRefused r:
                throw new InvalidOperationException(r.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to acquire '{Name}': {reply}");
        }
    }

    /// <summary>
    /// As <see cref="AskWithdrawingAsync"/>, sending the same request again after every <see cref="ResendAfter"/> without an
    /// answer, until <paramref name="timeout"/>.
    /// </summary>
    private Task<object> AskResendingAsync(Acquire request, long requestId, TimeSpan timeout, CancellationToken cancellationToken) =>
        // One operation in the history, however many times it is sent.
        _link.RecordedAsync(Manager, request, async () =>
        {
            var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            while (true)
            {
                var left = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), deadline);
                var last = left <= ResendAfter;
                try
                {
                    return await _link.AskUnrecordedAsync(Manager, request, last ? Max(left, TimeSpan.FromMilliseconds(1)) : ResendAfter, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (TimeoutException) when (!last)
                {
                    // Unanswered so far: a long wait for the lock, or a request (or its grant) lost on the way. Send it again.
                }
                catch (Exception e) when (e is TimeoutException or OperationCanceledException)
                {
                    Withdraw(requestId);
                    throw;
                }
            }
        });

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Asks the manager for something that may grant this lock; a caller that gives up withdraws it, so no permit is stranded.</summary>
    internal async Task<object> AskWithdrawingAsync(object request, long requestId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await _link.AskAsync(Manager, request, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            Withdraw(requestId);
            throw;
        }
    }

    /// <summary>The caller gave up: the manager may still grant after we stopped listening, so withdraw, no permit stranded.</summary>
    private void Withdraw(long requestId)
    {
        if (!_link.Ended.IsCancellationRequested)
            Manager.Tell(new CancelAcquire(Name, requestId, OwnerName));
    }

    /// <summary>
    /// Gives back one count of the permit of <paramref name="token"/>; throws <see cref="InvalidOperationException"/> if that
    /// token does not hold it (or another participant holds it), <see cref="SemaphoreFullException"/> if a BoundedSemaphore
    /// would go above its initial value.
    /// </summary>
    public async Task ReleaseAsync(long token, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await _link.AskAsync(Manager, new Release(Name, token, OwnerName), timeout ?? ReplyGrace, cancellationToken)
            .ConfigureAwait(false);
        switch (reply)
        {
            case Released released:
                Forget(token, released.Count);
                break;
            case ReleaseRefused refused:
                throw new InvalidOperationException(refused.Reason);
            case SemaphoreOverReleased over:
                Forget(token, 0);
                throw new SemaphoreFullException(over.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to release '{Name}': {reply}");
        }
    }

    /// <summary>What is left of <paramref name="token"/>'s holding is <paramref name="count"/> (0: none).</summary>
    internal void Forget(long token, int count)
    {
        if (count > 0)
            _held[token] = count;
        else
            _held.TryRemove(token, out _);
    }

    internal void Forget(LockHandle handle) => _handles.TryRemove(handle, out _);

    /// <summary>
    /// Gives back one count of the permit of <paramref name="token"/> without waiting for the answer: one one-way message
    /// instead of a round trip. Anything this participant asks the lock manager next travels behind it on the same
    /// connection, so it is released before that is served. A refusal (the permit was already taken back) is not reported.
    /// </summary>
    internal void ReleaseOneWay(long token)
    {
        _held.AddOrUpdate(token, 0, (_, count) => count - 1);
        _held.TryRemove(KeyValuePair.Create(token, 0));
        if (_link.Ended.IsCancellationRequested)
            return; // leaving or coordinator lost: the coordinator frees it
        var release = new Release(Name, token, OwnerName);
        if (_link.History is { } history && History.HistoryOps.Describe(Manager, release) is { } op)
            history.OneWay(op);
        Manager.Tell(release, ActorRefs.NoSender);
    }

    /// <summary>A condition's wait gave the lock up and took it back: the holding (all its handles) has a new fencing token.</summary>
    internal void Retoken(long from, long to)
    {
        if (from == to)
            return;
        if (_held.TryRemove(from, out var count))
            _held[to] = count;
        foreach (var handle in _handles.Keys.Where(h => h.Token == from))
            handle.Retoken(to);
    }

    /// <summary>The tokens this participant holds through this client (what its lease keeper renews).</summary>
    internal IReadOnlyCollection<long> HeldTokens => _held.Keys.ToList();

    bool ILeaseHolder.HoldsAnything => !_held.IsEmpty;

    ClientLink ILeaseHolder.Link => _link;

    void ILeaseHolder.Renew(TimeSpan lease)
    {
        foreach (var token in HeldTokens)
            _ = RenewAsync(token, lease);
    }

    private async Task RenewAsync(long token, TimeSpan lease)
    {
        try
        {
            if (await _link.AskAsync(Manager, new RenewLease(Name, token, OwnerName), lease).ConfigureAwait(false) is LeaseLost lost)
                MarkLost(token, lost.Reason);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or ParticipantFencedException)
        {
            // A late or lost renewal: the next one may still be in time; if none is, the manager ends the holding.
        }
    }

    /// <summary>The manager says the holding of <paramref name="token"/> has ended (its lease ran out): it guards nothing now.</summary>
    internal void MarkLost(long token, string reason)
    {
        _held.TryRemove(token, out _);
        foreach (var handle in _handles.Keys.Where(h => h.Token == token))
            handle.MarkLost(reason);
    }

    /// <summary>The holding of this participant through this client, if any: its token and count.</summary>
    internal (long Token, int Count)? Holding => _held.OrderBy(kv => kv.Key).Select(kv => ((long, int)?)(kv.Key, kv.Value)).FirstOrDefault();

    public async Task<LockState> StateAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (LockState)await _link.AskAsync(Manager, new GetLockState(Name), timeout ?? ReplyGrace, cancellationToken).ConfigureAwait(false);

    /// <summary>What this participant holds of it, as far as this client knows (the manager's view: <see cref="StateAsync"/>).</summary>
    public override string ToString()
    {
        var held = _held.OrderBy(kv => kv.Key).ToList();
        var value = Kind is SemKind.Semaphore or SemKind.BoundedSemaphore ? $", value={InitialValue}" : "";
        var state = held.Count == 0
            ? "held=no"
            : Kind == SemKind.RLock
                ? $"count={held[0].Value}, token={held[0].Key}"
                : $"token={string.Join(",", held.Select(kv => kv.Key))}";
        return $"{Kind}(name={Name}, owner={OwnerName}{value}, {state})";
    }
}

/// <summary>A mutex: one holder at a time (the lesson's "lock the toilet door"); only its holder releases it.</summary>
public sealed class SimLock(IActorRef manager, string name, ClientLink link, IActorRef owner)
    : SemLock(manager, name, SemKind.Lock, 1, link, owner);

/// <summary>Python's RLock: its holder may acquire it again (a count); it is free again after as many releases.</summary>
public sealed class SimRLock(IActorRef manager, string name, ClientLink link, IActorRef owner)
    : SemLock(manager, name, SemKind.RLock, 1, link, owner);

/// <summary>
/// Python's Semaphore (<paramref name="bounded"/>: BoundedSemaphore) with initial value <c>value</c> (0 or more). Acquire
/// takes a permit; <see cref="ReleaseAsync(TimeSpan, int, CancellationToken)"/> by anyone gives permits back.
/// </summary>
public class SimSemaphore(IActorRef manager, string name, int value, ClientLink link, IActorRef owner, bool bounded = false)
    : SemLock(manager, name, bounded ? SemKind.BoundedSemaphore : SemKind.Semaphore, value, link, owner)
{
    /// <summary>
    /// Python's <c>release(n)</c>: raises the value by <paramref name="n"/>, whoever calls (a permit this participant
    /// holds ends first). A BoundedSemaphore above its initial value throws <see cref="SemaphoreFullException"/>
    /// (Python's ValueError). Returns the value after the release.
    /// </summary>
    public async Task<int> ReleaseAsync(TimeSpan timeout, int n = 1, CancellationToken cancellationToken = default)
    {
        var reply = await Link.AskAsync(Manager, new ReleasePermits(Name, OwnerName, Kind, InitialValue, n), timeout, cancellationToken)
            .ConfigureAwait(false);
        switch (reply)
        {
            case PermitsReleased released:
                foreach (var token in released.Ended)
                    Forget(token, 0);
                return released.Value;
            case SemaphoreOverReleased over:
                throw new SemaphoreFullException(over.Reason);
            case ReleaseRefused refused:
                throw new InvalidOperationException(refused.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to release '{Name}': {reply}");
        }
    }
}

/// <summary>Python's BoundedSemaphore: a release above the initial value throws <see cref="SemaphoreFullException"/>.</summary>
public sealed class SimBoundedSemaphore(IActorRef manager, string name, int value, ClientLink link, IActorRef owner)
    : SimSemaphore(manager, name, value, link, owner, bounded: true);

/// <summary>One granted permit (one count of an RLock). Dispose it (<c>await using</c>) to release.</summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly SemLock _lock;
    private int _released;
    private long _token;
    private string? _lostReason;

    internal LockHandle(SemLock semLock, long token)
    {
        _lock = semLock;
        _token = token;
    }

    /// <summary>Fencing token of this grant: pass it to every store you write under the lock. A condition's wait renews it.</summary>
    public long Token => Interlocked.Read(ref _token);

    public bool IsReleased => Volatile.Read(ref _released) == 1;

    /// <summary>
    /// True once the lock manager said this holding has ended without a release: its lease ran out while this process
    /// was paused or cut off, and the lock passed on. Whatever is written with <see cref="Token"/> now is refused.
    /// </summary>
    public bool IsLost => Volatile.Read(ref _lostReason) is not null;

    /// <summary>Why the holding was lost (null while it is not).</summary>
    public string? LostReason => Volatile.Read(ref _lostReason);

    internal void MarkLost(string reason) => Interlocked.CompareExchange(ref _lostReason, reason, null);

    internal SemLock Lock => _lock;

    internal void Retoken(long token) => Interlocked.Exchange(ref _token, token);

    public async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
            throw new InvalidOperationException($"{this} was already released");
        _lock.Forget(this);
        await _lock.ReleaseAsync(Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Releases unless already released, one-way (the end of an <c>await using</c> block does not wait a round trip;
    /// <see cref="ReleaseAsync"/> waits for the answer and reports a refusal). A participant that is leaving, or has
    /// lost its coordinator, sends nothing: the coordinator frees its permits itself.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _lock.Forget(this);
            _lock.ReleaseOneWay(Token);
        }
        return ValueTask.CompletedTask;
    }

    public string LockName => _lock.Name;

    public override string ToString() =>
        $"{_lock.Kind}(name={_lock.Name}, owner={_lock.OwnerName}, token={Token}{(IsReleased ? ", released" : "")}{(IsLost ? ", lost" : "")})";
}
