using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// Python's Condition on a named Lock or RLock (<see cref="Lock"/>), kept by the <see cref="LockManager"/>: wait releases
/// the lock and takes it back (an RLock with its count) before it returns; notify wakes the longest waiters. Waiting or
/// notifying without holding the lock throws <see cref="SynchronizationLockException"/> (Python's RuntimeError).
/// </summary>
public sealed class SimCondition
{
    private int _waiting;
    private int _lastWoken = -1;

    public SimCondition(string name, SemLock @lock)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("a condition needs a name", nameof(name));
        if (@lock.Kind is not (SemKind.Lock or SemKind.RLock))
            throw new ArgumentException($"a condition's lock is a Lock or an RLock, not a {@lock.Kind}", nameof(@lock));
        Name = name;
        Lock = @lock;
    }

    public string Name { get; }

    /// <summary>The condition's lock: acquire it before waiting or notifying.</summary>
    public SemLock Lock { get; }

    /// <summary>
    /// How long, after a wait's own timeout, taking the lock back may take before the call gives up (Python waits for it
    /// without limit). A call that gives up no longer holds the lock and throws <see cref="TimeoutException"/>.
    /// </summary>
    public TimeSpan ReacquireTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Python's <c>wait(timeout)</c>: true if notified, false if the timeout passed; either way the lock is held again.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var before = Lock.Holding;
        var requestId = SemLock.NextRequestId();
        var request = new ConditionWait(Name, Lock.Name, requestId, Lock.OwnerName, Lock.Owner, timeout);
        Interlocked.Increment(ref _waiting);
        object reply;
        try
        {
            reply = await Lock.AskWithdrawingAsync(request, requestId, timeout + ReacquireTimeout + SemLock.ReplyGrace, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // The lock was given up and is not ours again (the withdrawal gives it back should it come).
            if (before is { } held)
                Lock.Forget(held.Token, 0);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        switch (reply)
        {
            case ConditionWoken woken:
                if (before is { } held)
                    Lock.Retoken(held.Token, woken.Token);
                return woken.Notified;
            case AcquireRefused refused:
                throw new SynchronizationLockException(refused.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to wait on condition '{Name}': {reply}");
        }
    }

    /// <summary>
    /// Python's <c>wait_for(predicate, timeout)</c>: evaluates <paramref name="predicate"/> (holding the lock), waits until it
    /// is true, evaluating it again after each wake-up, for at most <paramref name="timeout"/> in all; returns its last value.
    /// </summary>
    public async Task<bool> WaitForAsync(Func<CancellationToken, Task<bool>> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var result = await predicate(cancellationToken).ConfigureAwait(false);
        while (!result)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                break;
            await WaitAsync(left, cancellationToken).ConfigureAwait(false);
            result = await predicate(cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    /// <inheritdoc cref="WaitForAsync(Func{CancellationToken, Task{bool}}, TimeSpan, CancellationToken)"/>
    public Task<bool> WaitForAsync(Func<bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForAsync(_ => Task.FromResult(predicate()), timeout, cancellationToken);

    /// <summary>Python's <c>notify(n)</c>: wakes up to <paramref name="n"/> of the longest waiters; returns how many it woke.</summary>
    public async Task<int> NotifyAsync(int n = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await Lock.Link.AskAsync(Lock.Manager, new ConditionNotify(Name, Lock.Name, Lock.OwnerName, n), timeout ?? SemLock.ReplyGrace,
            cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case ConditionNotified notified:
                _lastWoken = notified.Woken;
                return notified.Woken;
            case AcquireRefused refused:
                throw new SynchronizationLockException(refused.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to notify on condition '{Name}': {reply}");
        }
    }

    /// <summary>Python's <c>notify_all()</c>.</summary>
    public Task<int> NotifyAllAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        NotifyAsync(int.MaxValue, timeout, cancellationToken);

    public override string ToString() =>
        $"Condition(name={Name}, lock={Lock.Name}, owner={Lock.OwnerName}, waiting={(Volatile.Read(ref _waiting) > 0 ? "yes" : "no")}" +
        $"{(_lastWoken >= 0 ? $", last notify woke {_lastWoken}" : "")})";
}
