using Akka.Actor;

namespace Sim.Core;

/// <summary>Python's BrokenBarrierError: the barrier was broken (a timeout, abort, reset, or a waiter's death) while or before waiting.</summary>
public sealed class BrokenBarrierException(string message) : Exception(message);

/// <summary>
/// Python's Barrier of <see cref="Parties"/> participants, kept by the <see cref="LockManager"/>. A wait that times out,
/// an abort, a reset, or the death of a waiting participant breaks it for every waiter at once.
/// </summary>
public sealed class SimBarrier
{
    private readonly IActorRef _manager;
    private readonly ClientLink _link;
    private readonly IActorRef _owner;
    private int _lastIndex = -1;

    public SimBarrier(IActorRef manager, string name, int parties, ClientLink link, IActorRef owner)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("a barrier needs a name", nameof(name));
        if (parties < 1)
            throw new ArgumentOutOfRangeException(nameof(parties), parties, "a barrier needs at least 1 party (Python's ValueError)");
        (_manager, Name, Parties, _link, _owner) = (manager, name, parties, link, owner);
    }

    public string Name { get; }
    public int Parties { get; }
    public string OwnerName => _link.Participant;

    /// <summary>
    /// Python's <c>wait(timeout)</c>: returns this participant's arrival index (0 to parties − 1) once all parties wait;
    /// throws <see cref="BrokenBarrierException"/> if the barrier is or becomes broken (this wait timing out breaks it).
    /// </summary>
    public async Task<int> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var request = new BarrierWait(Name, Parties, SemLock.NextRequestId(), OwnerName, _owner, timeout);
        var reply = await _link.AskAsync(_manager, request, timeout + SemLock.ReplyGrace, cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case BarrierPassed passed:
                _lastIndex = passed.Index;
                return passed.Index;
            case BarrierBroken broken:
                throw new BrokenBarrierException(broken.Reason);
            case AcquireRefused refused:
                throw new InvalidOperationException(refused.Reason);
            default:
                throw new InvalidOperationException($"unexpected reply to wait at barrier '{Name}': {reply}");
        }
    }

    /// <summary>Python's <c>abort()</c>: broken for every waiter now and every wait after, until a reset.</summary>
    public Task<BarrierState> AbortAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        CommandAsync(BarrierAction.Abort, timeout, cancellationToken);

    /// <summary>Python's <c>reset()</c>: every waiter gets a broken barrier; then it is empty and whole again.</summary>
    public Task<BarrierState> ResetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        CommandAsync(BarrierAction.Reset, timeout, cancellationToken);

    /// <summary>Python's <c>n_waiting</c> and <c>broken</c>, in one answer.</summary>
    public Task<BarrierState> StateAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        CommandAsync(BarrierAction.State, timeout, cancellationToken);

    private async Task<BarrierState> CommandAsync(BarrierAction action, TimeSpan? timeout, CancellationToken cancellationToken) =>
        await _link.AskAsync(_manager, new BarrierCommand(Name, Parties, action, OwnerName), timeout ?? SemLock.ReplyGrace, cancellationToken)
            .ConfigureAwait(false) switch
        {
            BarrierState state => state,
            AcquireRefused refused => throw new InvalidOperationException(refused.Reason),
            var other => throw new InvalidOperationException($"unexpected reply from barrier '{Name}': {other}"),
        };

    public override string ToString() =>
        $"Barrier(name={Name}, parties={Parties}, owner={OwnerName}{(_lastIndex >= 0 ? $", last index={_lastIndex}" : "")})";
}
