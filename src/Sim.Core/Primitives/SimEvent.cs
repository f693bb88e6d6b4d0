using Akka.Actor;

namespace Sim.Core;

/// <summary>Python's Event, kept by the <see cref="LockManager"/>: a flag that set raises (waking every waiter at once) and clear lowers.</summary>
public sealed class SimEvent(IActorRef manager, string name, ClientLink link, IActorRef owner)
{
    private bool? _lastSeen;

    public string Name { get; } = !string.IsNullOrWhiteSpace(name) ? name : throw new ArgumentException("an event needs a name", nameof(name));
    public string OwnerName => link.Participant;

    /// <summary>Python's <c>set()</c>; returns how many waiters it woke.</summary>
    public async Task<int> SetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await ChangeAsync(true, timeout, cancellationToken).ConfigureAwait(false)).Woken;

    /// <summary>Python's <c>clear()</c>.</summary>
    public Task ClearAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) => ChangeAsync(false, timeout, cancellationToken);

    /// <summary>Python's <c>is_set()</c>.</summary>
    public async Task<bool> IsSetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await StateAsync(timeout, cancellationToken).ConfigureAwait(false)).IsSet;

    public async Task<EventState> StateAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var state = Expect<EventState>(await link.AskAsync(manager, new GetEventState(Name), timeout ?? SemLock.ReplyGrace, cancellationToken)
            .ConfigureAwait(false));
        _lastSeen = state.IsSet;
        return state;
    }

    /// <summary>Python's <c>wait(timeout)</c>: true once the flag is set (at once if it is), false if <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var request = new EventWait(Name, SemLock.NextRequestId(), OwnerName, owner, timeout);
        var waited = Expect<EventWaited>(await link.AskAsync(manager, request, timeout + SemLock.ReplyGrace, cancellationToken).ConfigureAwait(false));
        _lastSeen = waited.IsSet;
        return waited.IsSet;
    }

    private async Task<EventState> ChangeAsync(bool set, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var state = Expect<EventState>(await link.AskAsync(manager, new EventChange(Name, set, OwnerName), timeout ?? SemLock.ReplyGrace, cancellationToken)
            .ConfigureAwait(false));
        _lastSeen = state.IsSet;
        return state;
    }

    private T Expect<T>(object reply) => reply switch
    {
        T expected => expected,
        AcquireRefused refused => throw new InvalidOperationException(refused.Reason),
        _ => throw new InvalidOperationException($"unexpected reply from event '{Name}': {reply}"),
    };

    public override string ToString() =>
        $"Event(name={Name}, owner={OwnerName}, set={(_lastSeen is { } seen ? seen ? "yes" : "no" : "unknown")})";
}
