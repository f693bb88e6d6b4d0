using System.Collections.Concurrent;
using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// Client of one named lock or semaphore held by the <see cref="LockManager"/>. As CPython builds Lock
/// and Semaphore on one SemLock, <see cref="SimLock"/> and <see cref="SimSemaphore"/> only fix the permit count.
/// </summary>
public abstract class SemLock
{
    /// <summary>Extra time the reply may take over the wire beyond the requested wait.</summary>
    private static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(5);
    private static long _nextRequestId;

    private readonly IActorRef _manager;
    private readonly IActorRef _owner;
    private readonly ClientLink _link;
    private readonly ConcurrentDictionary<long, byte> _held = new();

    protected SemLock(IActorRef manager, string name, int maxHolders, ClientLink link, IActorRef owner)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("a lock needs a name", nameof(name));
        _manager = manager;
        Name = name;
        MaxHolders = maxHolders;
        _link = link;
        _owner = owner;
    }

    public string Name { get; }
    public int MaxHolders { get; }
    public string OwnerName => _link.Participant;
    protected abstract string Kind { get; }

    /// <summary>Waits up to <paramref name="timeout"/> for a permit; throws <see cref="TimeoutException"/> if none came.</summary>
    public async Task<LockHandle> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        await TryAcquireAsync(timeout, cancellationToken).ConfigureAwait(false)
        ?? throw new TimeoutException($"{Kind.ToLowerInvariant()} '{Name}' not acquired within {timeout.TotalMilliseconds:0} ms");

    /// <summary>Waits up to <paramref name="timeout"/> for a permit; null if none came (Python's <c>acquire(timeout=...)</c> returning False).</summary>
    public async Task<LockHandle?> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var requestId = Interlocked.Increment(ref _nextRequestId);
        var request = new Acquire(Name, requestId, OwnerName, _owner, timeout, MaxHolders);
        object reply;
        try
        {
            reply = await _link.AskAsync(_manager, request, timeout + ReplyGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // The manager may still grant after we stopped listening: withdraw so no permit is stranded.
            _manager.Tell(new CancelAcquire(Name, requestId, OwnerName));
            throw;
        }
        switch (reply)
        {
            case Granted g:
                _held[g.Token] = 0;
                return new LockHandle(this, g.Token);
            case AcquireTimedOut:
                return null;
            case AcquireRefused r:
                throw new InvalidOperationException(r.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to acquire '{Name}': {reply}");
        }
    }

    /// <summary>Gives back the permit of <paramref name="token"/>; throws if that token does not hold it.</summary>
    public async Task ReleaseAsync(long token, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await _link.AskAsync(_manager, new Release(Name, token, OwnerName), timeout ?? ReplyGrace, cancellationToken)
            .ConfigureAwait(false);
        _held.TryRemove(token, out _);
        if (reply is ReleaseRefused refused)
            throw new InvalidOperationException(refused.Reason);
    }

    /// <summary>
    /// Gives back the permit of <paramref name="token"/> without waiting for the answer: one one-way message instead of a
    /// round trip. Anything this participant asks the lock manager next travels behind it on the same connection, so it
    /// is released before that is served. A refusal (the permit was already taken back) is not reported.
    /// </summary>
    internal void ReleaseOneWay(long token)
    {
        _held.TryRemove(token, out _);
        if (_link.Ended.IsCancellationRequested)
            return; // leaving or coordinator lost: the coordinator frees it
        _manager.Tell(new Release(Name, token, OwnerName), ActorRefs.NoSender);
    }

    public async Task<LockState> StateAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (LockState)await _link.AskAsync(_manager, new GetLockState(Name), timeout ?? ReplyGrace, cancellationToken).ConfigureAwait(false);

    public override string ToString()
    {
        var tokens = _held.Keys.OrderBy(t => t).ToList();
        var state = tokens.Count == 0 ? "held=no" : $"token={string.Join(",", tokens)}";
        var permits = MaxHolders == 1 ? "" : $", permits={MaxHolders}";
        return $"{Kind}(name={Name}, owner={OwnerName}{permits}, {state})";
    }
}

/// <summary>A mutex: one holder at a time (the lesson's "lock the toilet door").</summary>
public sealed class SimLock(IActorRef manager, string name, ClientLink link, IActorRef owner)
    : SemLock(manager, name, 1, link, owner)
{
    protected override string Kind => "Lock";
}

/// <summary>A counting semaphore: up to <c>permits</c> holders at a time; every release must name a held token.</summary>
public sealed class SimSemaphore(IActorRef manager, string name, int permits, ClientLink link, IActorRef owner)
    : SemLock(manager, name, permits, link, owner)
{
    protected override string Kind => "Semaphore";
}

/// <summary>One granted permit. Dispose it (<c>await using</c>) to release.</summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly SemLock _lock;
    private int _released;

    internal LockHandle(SemLock semLock, long token)
    {
        _lock = semLock;
        Token = token;
    }

    /// <summary>Fencing token of this grant: pass it to every store you write under the lock.</summary>
    public long Token { get; }
    public bool IsReleased => Volatile.Read(ref _released) == 1;

    public async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
            throw new InvalidOperationException($"{this} was already released");
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
            _lock.ReleaseOneWay(Token);
        return ValueTask.CompletedTask;
    }

    public string LockName => _lock.Name;

    public override string ToString() =>
        $"Lock(name={_lock.Name}, owner={_lock.OwnerName}, token={Token}{(IsReleased ? ", released" : "")})";
}
