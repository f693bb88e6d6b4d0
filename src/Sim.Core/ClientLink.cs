using Akka.Actor;
using Sim.Core.History;

namespace Sim.Core;

/// <summary>The coordinator is gone (its node died or became unreachable): no call of this participant can be answered.</summary>
public sealed class CoordinatorLostException(string message, CancellationToken token) : OperationCanceledException(message, token);

/// <summary>
/// What every client handle of one participant shares: the name it speaks for, and the two signals that end all of
/// its calls at once: the coordinator is lost, or the participant was fenced (it is being terminated and must send
/// nothing more). Every call goes through <see cref="AskAsync"/>, so no call outlives either signal.
/// </summary>
public sealed class ClientLink : IDisposable
{
    private readonly CancellationTokenSource _fenced = new();
    private readonly CancellationTokenSource _ended;
    private readonly CancellationToken _coordinatorLost;

    public ClientLink(string participant, CancellationToken coordinatorLost)
    {
        Participant = participant;
        _coordinatorLost = coordinatorLost;
        _ended = CancellationTokenSource.CreateLinkedTokenSource(_fenced.Token, coordinatorLost);
    }

    /// <summary>A link for code on the coordinator's own node (the launcher, a test): it is never lost nor fenced.</summary>
    public static ClientLink Local(string participant = "coordinator") => new(participant, CancellationToken.None);

    public string Participant { get; }

    /// <summary>Cancelled when the coordinator is lost or the participant is fenced.</summary>
    public CancellationToken Ended => _ended.Token;

    public bool IsFenced => _fenced.IsCancellationRequested;

    /// <summary>Where this participant's calls are written down (null: not recorded). Set once, before the role runs.</summary>
    public HistoryRecorder? History { get; set; }

    /// <summary>From now on every call fails at once and nothing more is sent (terminate: the role stops before goodbye).</summary>
    public void Fence() => _fenced.Cancel();

    /// <summary>Throws if the link has ended; call before a one-way send.</summary>
    public void ThrowIfEnded()
    {
        if (_ended.IsCancellationRequested)
            throw EndedError(null);
    }

    /// <summary>
    /// Asks <paramref name="target"/> and returns its answer. Fails with <see cref="ParticipantFencedException"/> when the
    /// coordinator refused a participant that has left, <see cref="CoordinatorLostException"/> when the coordinator is
    /// gone, <see cref="ParticipantFencedException"/> when this side was fenced, and <see cref="TimeoutException"/> when no
    /// answer came within <paramref name="timeout"/>.
    /// </summary>
    public Task<object> AskAsync(IActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RecordedAsync(target, message, () => AskUnrecordedAsync(target, message, timeout, cancellationToken));

    /// <summary>
    /// Runs <paramref name="call"/>, which asks <paramref name="target"/> for <paramref name="message"/> (perhaps more than
    /// once: a resent request), as one operation of the history.
    /// </summary>
    internal async Task<object> RecordedAsync(IActorRef target, object message, Func<Task<object>> call)
    {
        ThrowIfEnded();
        // Every operation on a primitive passes here: the history's one hook on the participant's side.
        if (History is { } history && HistoryOps.Describe(target, message) is { } op)
        {
            var id = history.Invoke(op);
            object answer;
            try
            {
                answer = await call().ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or ParticipantFencedException)
            {
                history.Complete(id, op, HistoryOps.Unknown(e));
                throw;
            }
            history.Complete(id, op, HistoryOps.Outcome(op, answer));
            return answer;
        }
        return await call().ConfigureAwait(false);
    }

    /// <summary>As <see cref="AskAsync"/>, not recorded in the history (a part of an operation recorded as a whole).</summary>
    internal async Task<object> AskUnrecordedAsync(IActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        object reply;
        CancellationTokenSource? linked = null;
        var token = Ended;
        if (cancellationToken.CanBeCanceled)
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Ended);
            token = linked.Token;
        }
        try
        {
            reply = await target.Ask<object>(message, timeout, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (_ended.IsCancellationRequested && e is not CoordinatorLostException)
        {
            throw EndedError(e);
        }
        catch (AskTimeoutException e)
        {
            throw new TimeoutException($"{Describe(target)} did not answer {message.GetType().Name} within {timeout.TotalSeconds:0.###} s", e);
        }
        finally
        {
            linked?.Dispose();
        }
        if (reply is ParticipantFenced fenced)
            throw new ParticipantFencedException(fenced.Reason);
        return reply;
    }

    private Exception EndedError(Exception? inner) =>
        _coordinatorLost.IsCancellationRequested
            ? new CoordinatorLostException($"{Participant}: the coordinator is lost", _coordinatorLost)
            : new ParticipantFencedException($"{Participant} is leaving the run: it sends nothing more");

    private static string Describe(IActorRef target) => target.Path.Name;

    public void Dispose()
    {
        _ended.Dispose();
        _fenced.Dispose();
    }

    public override string ToString() =>
        $"ClientLink(participant={Participant}{(_coordinatorLost.IsCancellationRequested ? ", coordinator lost" : "")}{(IsFenced ? ", fenced" : "")})";
}
