using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// Resent acquires. Akka.Remote drops whatever a broken link held (a partition, a reconnect), so a client that hears
/// nothing sends the same request again (<see cref="SemLock"/>); here every copy after the first is recognised by its
/// owner and request id: one still waiting is answered to its newest asker, one already granted gets its grant again,
/// and one already over (given back, timed out, withdrawn) is ignored, so a late copy can never take the lock a
/// second time.
/// </summary>
public sealed partial class LockManager
{
    /// <summary>Requests of one owner that are over, the newest few: a copy arrives at most a few resends late.</summary>
    private const int FinishedKept = 64;

    private readonly Dictionary<string, long[]> _finished = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _finishedNext = new(StringComparer.Ordinal);

    /// <summary>True if <paramref name="m"/> is a copy of a request this manager has seen, which is then answered here.</summary>
    private bool AnsweredAsResend(Acquire m)
    {
        if (_locks.TryGetValue(m.Lock, out var named))
        {
            if (FindWaiter(named, m.OwnerName, m.RequestId) is { } waiting)
            {
                // The earlier asker may have given up on this copy: the grant goes to whoever asked last.
                waiting.ReplyTo = Sender;
                return true;
            }
            foreach (var holder in named.Holders.Values)
            {
                if (holder.OwnerName == m.OwnerName && holder.RequestIds.Contains(m.RequestId))
                {
                    Sender.Tell(new Granted(m.Lock, m.RequestId, holder.Token, holder.Lease));
                    return true;
                }
            }
        }
        return IsFinished(m.OwnerName, m.RequestId);
    }

    /// <summary>These requests of <paramref name="owner"/> are over: a late copy of any of them is ignored.</summary>
    private void Finished(string owner, IEnumerable<long> requestIds)
    {
        if (!_finished.TryGetValue(owner, out var ring))
        {
            _finished[owner] = ring = new long[FinishedKept];
            _finishedNext[owner] = 0;
        }
        foreach (var id in requestIds)
        {
            var next = _finishedNext[owner];
            ring[next] = id;
            _finishedNext[owner] = (next + 1) % FinishedKept;
        }
    }

    private bool IsFinished(string owner, long requestId) =>
        requestId != 0 && _finished.TryGetValue(owner, out var ring) && Array.IndexOf(ring, requestId) >= 0;

    private void ForgetFinished(string owner)
    {
        _finished.Remove(owner);
        _finishedNext.Remove(owner);
    }
}
